"""KMS: keys rotate, and key policies admit no one outside the account's control."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings
from .helpers import get, truthy
from .iam_meaning import resource_policy_problems

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def rotation(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Only symmetric encryption keys rotate automatically; asymmetric and HMAC keys cannot.
    # https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
    spec = get(props, "customerMasterKeySpec", default=None) or get(props, "keySpec", default="SYMMETRIC_DEFAULT")
    if spec == "SYMMETRIC_DEFAULT" and get(props, "keyUsage", default="ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT":
        if not truthy(get(props, "enableKeyRotation")):
            yield "enableKeyRotation is off"


def key_policy(props: Mapping, _settings: Settings) -> Iterable[str]:
    # In a key policy Resource "*" means this key: only principals and conditions matter.
    if get(props, "policy") is not None:
        yield from resource_policy_problems(get(props, "policy"))


RULES = [
    ResourceRule(
        name="aws-kms-key-rotation",
        description="Symmetric KMS keys rotate their key material every year.",
        remediation="set enableKeyRotation: true",
        category="security",
        types=(KEY,),
        check=rotation,
    ),
    ResourceRule(
        name="aws-kms-key-policy-principals",
        description="KMS key policies admit no wildcard principal without a condition on the caller's account or organization, and no Not* elements.",
        remediation="name the account root or roles in Principal.AWS, or add aws:PrincipalAccount / kms:CallerAccount conditions",
        category="security",
        types=(KEY, KEY_POLICY),
        check=key_policy,
    ),
]
