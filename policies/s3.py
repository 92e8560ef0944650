"""S3: public access blocked, TLS only, bucket policies that admit no one outside."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, truthy
from .iam_meaning import allows, as_list, bool_values, element, expand, policy_statements, principal_entries, resource_policy_problems

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def public_access_blocked(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    blocks = stack.referrers(subject, "bucket", (PUBLIC_ACCESS_BLOCK,)) + stack.of(ACCOUNT_PUBLIC_ACCESS_BLOCK)
    if not any(all(truthy(get(stack.props(b), flag)) for flag in BLOCK_FLAGS) for b in blocks):
        yield f"no public access block sets all of {', '.join(BLOCK_FLAGS)}"


def _bucket_documents(subject, stack: Stack) -> list:
    """The bucket's own policy and its BucketPolicy resources' (None where absent: it denies nothing)."""
    return [get(stack.props(subject), "policy")] + [get(stack.props(p), "policy") for p in stack.referrers(subject, "bucket", (BUCKET_POLICY,))]


def tls_only(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    if not any(_denies_plain_http(document) for document in _bucket_documents(subject, stack)):
        yield "no bucket policy denies requests without TLS (aws:SecureTransport false)"


def _denies_plain_http(document) -> bool:
    statements, _ = policy_statements(document)
    for statement in statements:
        if allows(statement) or not any(v == "*" for _, v in principal_entries(statement)):
            continue
        actions = {a.name for pattern in as_list(element(statement, "Action")) for a in expand(str(pattern))}
        if "s3:GetObject" in actions and "s3:PutObject" in actions:
            condition = element(statement, "Condition")
            values = bool_values(condition, "aws:SecureTransport")
            if "false" in values:
                return True
    return False


def bucket_policy(props: Mapping, _settings: Settings) -> Iterable[str]:
    if get(props, "policy") is not None:
        yield from resource_policy_problems(get(props, "policy"))


RULES = [
    StackRule(
        name="aws-s3-bucket-public-access-blocked",
        description="S3 buckets are covered by a public access block with all four settings on (bucket or account).",
        remediation="add aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true",
        category="security",
        types=BUCKETS,
        check=public_access_blocked,
    ),
    StackRule(
        name="aws-s3-bucket-tls-only",
        description="S3 bucket policies deny every request made without TLS.",
        remediation="add a Deny statement for Principal \"*\", Action s3:*, Condition Bool aws:SecureTransport false",
        category="security",
        types=BUCKETS,
        check=tls_only,
    ),
    ResourceRule(
        name="aws-s3-bucket-policy-principals",
        description="S3 bucket policies admit no wildcard principal without a condition on the caller's account, organization or network, and no Not* elements.",
        remediation="name the principals, or add aws:PrincipalOrgID / aws:SourceVpce conditions",
        category="security",
        types=(*BUCKETS, BUCKET_POLICY),
        check=bucket_policy,
    ),
]
