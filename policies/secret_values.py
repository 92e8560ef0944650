"""Credentials in values, not only in names: detect-secrets' detectors over environment values,
commands, entry points, user data and the other places a value reaches a resource.

detect-secrets (Yelp) is the maintained library: its detectors are the regexes and entropy
measures of its secret types (AWS keys, private keys, URLs with passwords, vendor tokens), used
here through its plugin classes, offline, with no baseline file. See README "Libraries and why".

Shared by the pack (aws-secrets-no-plaintext-values) and the config loader (configs/checks.py),
so an environment file never produces a value the pack then rejects.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Optional

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

# detect-secrets' detectors that recognise a credential by its own shape. Left out: its keyword
# detector (a name, which SECRET_CONTEXT_NAME below and the name rule judge), the entropy ones
# (applied under secret-like names only, below), public IPs, and the IBM/SoftLayer/Cloudant
# detectors, which need a keyword context of their own.
CREDENTIAL_TYPES = (
    "AWS Access Key",
    "Private Key",
    "Basic Auth Credentials",
    "GitHub Token",
    "GitLab Token",
    "Slack Token",
    "Stripe Access Key",
    "JSON Web Token",
    "OpenAI Token",
    "SendGrid API Key",
    "NPM tokens",
    "PyPI Token",
    "Twilio API Key",
    "Azure Storage Account access key",
    "Discord Bot Token",
    "Telegram Bot Token",
    "Mailchimp Access Key",
    "Artifactory Credentials",
    "Square OAuth Secret",
)
# Names under which a high-entropy value is a credential, although the name alone is not
# refused (DATABASE_URL=postgres://db:5432/app is fine; with a random password in it, not).
SECRET_CONTEXT_NAME = re.compile(
    r"(?i)(PASS|PWD|PASSPHRASE|CREDENTIAL|DSN|DATABASE_URL|DB_URL|CONN(ECTION)?_?STR|URI|URL|SECRET|TOKEN|KEY|AUTH|"
    r"SIGNATURE|SALT|COOKIE|SESSION|BEARER|CERT)"
)
# Tokens of at least this length are measured; detect-secrets' own limits apply (4.5 bits per
# character for base64-like text, 3.0 for hex).
MIN_TOKEN = 16
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{%d,}" % MIN_TOKEN)
_HEX_TOKEN = re.compile(r"\b[0-9a-fA-F]{%d,}\b" % MIN_TOKEN)


@functools.cache
def _detectors() -> tuple:
    mapping = get_mapping_from_secret_type_to_class()
    return tuple(mapping[kind]() for kind in CREDENTIAL_TYPES)


@functools.cache
def _entropy() -> tuple[Base64HighEntropyString, HexHighEntropyString]:
    return Base64HighEntropyString(), HexHighEntropyString()


@functools.lru_cache(maxsize=4096)
def credential_kinds(text: str) -> tuple[str, ...]:
    """The detect-secrets types whose detector matches somewhere in text."""
    return tuple(d.secret_type for d in _detectors() if any(True for _ in d.analyze_string(text)))


def high_entropy(text: str) -> bool:
    base64_plugin, hex_plugin = _entropy()
    if any(hex_plugin.calculate_shannon_entropy(t) > hex_plugin.entropy_limit for t in _HEX_TOKEN.findall(text)):
        return True
    return any(base64_plugin.calculate_shannon_entropy(t) > base64_plugin.entropy_limit for t in _BASE64_TOKEN.findall(text))


def value_problem(value: str, name: Optional[str] = None) -> Optional[str]:
    """What credential a value holds (never the value itself), or None."""
    kinds = credential_kinds(str(value))
    if kinds:
        return f"holds a credential ({', '.join(kinds)})"
    if name and SECRET_CONTEXT_NAME.search(name) and high_entropy(str(value)):
        return "holds a high-entropy value under a secret-like name"
    return None


def warm_up() -> None:
    """Builds the detectors once, at the pack's start-up rather than on its first resource."""
    _detectors()
    _entropy()


def user_data_text(value: str) -> str:
    """Launch templates carry user data base64-encoded; instances may carry it as text."""
    compact = re.sub(r"\s+", "", value)
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return value
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        return value
