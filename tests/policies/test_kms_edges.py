"""KMS edges: which keys must rotate (AWS rotates only symmetric encryption keys), under both
spellings of the key spec."""

from __future__ import annotations

import pytest

from .verdicts import problems
from .stack import edited, set_

KEY, ROTATION = "prod-exec-key", "aws-kms-key-rotation"
ROTATION_OFF = set_(KEY, "enableKeyRotation", False)


@pytest.mark.parametrize("edits", [
    pytest.param([set_(KEY, "customerMasterKeySpec", "RSA_2048"), set_(KEY, "keyUsage", "SIGN_VERIFY")], id="asymmetric-by-the-deprecated-spec-name"),
    pytest.param([set_(KEY, "customerMasterKeySpec", "RSA_3072")], id="asymmetric-spec-usage-unset"),
    pytest.param([set_(KEY, "keySpec", "RSA_2048"), set_(KEY, "keyUsage", "ENCRYPT_DECRYPT")], id="asymmetric-encryption-key"),
    pytest.param([set_(KEY, "keySpec", "HMAC_256"), set_(KEY, "keyUsage", "GENERATE_VERIFY_MAC")], id="hmac"),
    pytest.param([set_(KEY, "keySpec", "SYMMETRIC_DEFAULT"), set_(KEY, "keyUsage", "GENERATE_VERIFY_MAC")], id="symmetric-spec-other-usage"),
    pytest.param([set_(KEY, "customerMasterKeySpec", "RSA_4096"), set_(KEY, "keySpec", "SYMMETRIC_DEFAULT")], id="the-deprecated-name-wins-when-set"),
])
def test_keys_aws_cannot_rotate_need_no_rotation(pack, edits):
    """https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html: automatic
    rotation is for symmetric encryption keys only."""
    assert problems(pack.verdict(edited(ROTATION_OFF, *edits))) == []


@pytest.mark.parametrize("edits", [
    pytest.param([], id="spec-and-usage-unset"),
    pytest.param([set_(KEY, "keySpec", "SYMMETRIC_DEFAULT"), set_(KEY, "keyUsage", "ENCRYPT_DECRYPT")], id="spelled-out"),
    pytest.param([set_(KEY, "customerMasterKeySpec", "SYMMETRIC_DEFAULT")], id="deprecated-spec-name"),
    pytest.param([set_(KEY, "customerMasterKeySpec", None), set_(KEY, "keySpec", "SYMMETRIC_DEFAULT")], id="deprecated-name-null"),
])
def test_a_symmetric_encryption_key_must_rotate(pack, edits):
    assert problems(pack.verdict(edited(ROTATION_OFF, *edits))) == [(ROTATION, KEY, "enableKeyRotation is off")]


@pytest.mark.parametrize("value", ["true", True])
def test_rotation_given_as_text_or_bool_passes(pack, value):
    assert problems(pack.verdict(edited(set_(KEY, "enableKeyRotation", value), set_(KEY, "keySpec", "SYMMETRIC_DEFAULT")))) == []

