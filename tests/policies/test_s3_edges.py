"""Edges of the S3 rules: what counts as denying plain HTTP (any equality operator on
aws:SecureTransport, both reads and writes denied), and the public access block."""

from __future__ import annotations

import pytest

from .verdicts import problems
from .stack import add, edited, json_doc, remove, set_

BUCKET, POLICY = "prod-assets", "prod-assets-policy"
TLS, BLOCK = "aws-s3-bucket-tls-only", "aws-s3-bucket-public-access-blocked"
OBJECTS = ["arn:aws:s3:::acme-prod-assets", "arn:aws:s3:::acme-prod-assets/*"]
READS = {"Sid": "ApiReads", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/prod-api-task"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-prod-assets/*"}
NO_TLS = "no bucket policy denies requests without TLS (aws:SecureTransport false)"


def deny(action="s3:*", condition=None, principal="*", effect="Deny"):
    statement = {"Sid": "TlsOnly", "Effect": effect, "Principal": principal, "Action": action, "Resource": OBJECTS,
                 "Condition": condition if condition is not None else {"Bool": {"aws:SecureTransport": "false"}}}
    return set_(POLICY, "policy", json_doc([statement, READS]))


@pytest.mark.parametrize("edit", [
    pytest.param(deny(condition={"StringEquals": {"aws:SecureTransport": "false"}}), id="string-equals"),
    pytest.param(deny(condition={"bool": {"AWS:SECURETRANSPORT": ["false"]}}), id="operator-and-key-in-other-case"),
    pytest.param(deny(action=["s3:GetObject", "s3:PutObject"]), id="reads-and-writes"),
    pytest.param(deny(action="s3:*Object"), id="pattern-covering-both"),
    pytest.param(deny(principal={"AWS": "*"}), id="aws-star-principal"),
])
def test_these_deny_plain_http(pack, edit):
    assert problems(pack.verdict(edited(edit))) == []


@pytest.mark.parametrize("edit", [
    pytest.param(deny(action="s3:GetObject"), id="reads-only"),
    pytest.param(deny(action="s3:PutObject"), id="writes-only"),
    pytest.param(deny(condition={"Bool": {"aws:SecureTransport": "true"}}), id="denies-tls-instead"),
    pytest.param(deny(condition={"StringNotEquals": {"aws:SecureTransport": "false"}}), id="negated-operator"),
    pytest.param(deny(principal={"AWS": "arn:aws:iam::123456789012:root"}), id="one-principal-only"),
    pytest.param(deny(effect="Allow", principal={"AWS": "arn:aws:iam::123456789012:root"}), id="an-allow"),
])
def test_these_do_not(pack, edit):
    assert problems(pack.verdict(edited(edit))) == [(TLS, BUCKET, NO_TLS)]


@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_every_block_flag_counts(pack, flag):
    assert problems(pack.verdict(edited(set_("prod-assets-block", flag, False)))) == [
        (BLOCK, BUCKET, "no public access block sets all of blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets")]


def test_an_account_wide_block_covers_the_bucket(pack):
    account_block = add("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "prod-account-block",
                        {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True})
    assert problems(pack.verdict(edited(remove("prod-assets-block"), account_block))) == []


def test_a_policy_on_the_bucket_itself_counts(pack):
    own = lambda stack: stack[BUCKET]["props"].update(policy=stack[POLICY]["props"]["policy"])  # noqa: E731
    assert problems(pack.verdict(edited(own, remove(POLICY)))) == []
