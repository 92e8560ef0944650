"""Secrets Manager: resource policies admit no one outside the account's control."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings
from .helpers import get
from .iam_meaning import resource_policy_problems

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"


def secret_policy(props: Mapping, _settings: Settings) -> Iterable[str]:
    if get(props, "policy") is not None:
        yield from resource_policy_problems(get(props, "policy"))


RULES = [
    ResourceRule(
        name="aws-secretsmanager-policy-principals",
        description="Secrets Manager resource policies admit no wildcard principal without a condition on the caller's account or organization, and no Not* elements.",
        remediation="name the roles that read the secret, or add an aws:PrincipalAccount condition",
        category="security",
        types=(SECRET, SECRET_POLICY),
        check=secret_policy,
    ),
]
