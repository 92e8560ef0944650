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
import importlib
import re
from typing import Optional

from .deferred_imports import defer

# Before detect-secrets: its plugins import requests, which nothing here runs (the module says why).
defer("requests")

from detect_secrets.core.plugins.util import get_plugins_from_module  # noqa: E402
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString  # noqa: E402

# detect-secrets' detectors that recognise a credential by its own shape. Left out: its keyword
# detector (a name, which SECRET_CONTEXT_NAME below and the name rule judge), the entropy ones
# (applied under secret-like names only, below), public IPs, and the IBM/SoftLayer/Cloudant
# detectors, which need a keyword context of their own. Each type -> the plugin module that
# defines its detector: only these are imported (all of them, as detect-secrets' own type
# mapping loads them, would run the IBM plugins' `requests.Response` annotations, hence requests).
CREDENTIAL_DETECTORS = {
    "AWS Access Key": "aws",
    "Private Key": "private_key",
    "Basic Auth Credentials": "basic_auth",
    "GitHub Token": "github_token",
    "GitLab Token": "gitlab_token",
    "Slack Token": "slack",
    "Stripe Access Key": "stripe",
    "JSON Web Token": "jwt",
    "OpenAI Token": "openai",
    "SendGrid API Key": "sendgrid",
    "NPM tokens": "npm",
    "PyPI Token": "pypi_token",
    "Twilio API Key": "twilio",
    "Azure Storage Account access key": "azure_storage_key",
    "Discord Bot Token": "discord",
    "Telegram Bot Token": "telegram_token",
    "Mailchimp Access Key": "mailchimp",
    "Artifactory Credentials": "artifactory",
    "Square OAuth Secret": "square_oauth",
}
CREDENTIAL_TYPES = tuple(CREDENTIAL_DETECTORS)
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
    return tuple(detector_class(kind)() for kind in CREDENTIAL_TYPES)


def detector_class(secret_type: str) -> type:
    """The plugin class detect-secrets defines for a secret type, from its module alone."""
    module = importlib.import_module(f"detect_secrets.plugins.{CREDENTIAL_DETECTORS[secret_type]}")
    return next(plugin for plugin in get_plugins_from_module(module) if plugin.secret_type == secret_type)


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
