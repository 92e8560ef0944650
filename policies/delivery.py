"""Delivery: the GitHub OIDC deploy role's trust, and (production tier) alarms with actions.

The trust check is used by aws-iam-role-trust (policies/iam.py) for Federated principals: a
role may trust GitHub's OIDC provider only for STS tokens of exactly one repository and branch
or environment, i.e. `StringEquals` on both `aud` and `sub`, with no wildcard in `sub` (a
`StringLike` `repo:acme/*` admits every repository of the owner, forks' pull requests included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .helpers import as_list

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_PROVIDER_ARN = re.compile(rf"^arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}$")
# repo:<owner>/<name>:ref:refs/heads/<branch> or repo:<owner>/<name>:environment:<name>
PINNED_SUBJECT = re.compile(r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:(ref:refs/heads/[A-Za-z0-9_./-]+|environment:[A-Za-z0-9_./-]+)$")


def github_trust_problems(statement: Mapping, provider: str) -> Iterable[str]:
    """Why a statement trusting the Federated principal `provider` is not a pinned GitHub trust."""
    if not GITHUB_PROVIDER_ARN.match(str(provider)):
        yield f"the trust policy admits Federated {provider}"
        return
    actions = as_list(statement.get("Action"))
    if actions != ["sts:AssumeRoleWithWebIdentity"]:
        yield f"GitHub's provider is trusted for {', '.join(map(str, actions))}; allow sts:AssumeRoleWithWebIdentity only"
    condition = statement.get("Condition") or {}
    equals = condition.get("StringEquals") or {}
    audience = as_list(equals.get(f"{GITHUB_OIDC_HOST}:aud"))
    if audience != ["sts.amazonaws.com"]:
        yield f"GitHub tokens are not pinned to StringEquals {GITHUB_OIDC_HOST}:aud sts.amazonaws.com"
    subjects = as_list(equals.get(f"{GITHUB_OIDC_HOST}:sub"))
    if not subjects or not all(PINNED_SUBJECT.match(str(subject)) for subject in subjects):
        yield (
            f"GitHub tokens are not pinned to one repository and branch or environment (StringEquals "
            f"{GITHUB_OIDC_HOST}:sub repo:<owner>/<name>:ref:refs/heads/<branch>); any matching workflow could deploy"
        )
    for operator in condition:
        if operator != "StringEquals" and any(str(key).startswith(GITHUB_OIDC_HOST) for key in condition[operator]):
            yield f"{operator} on GitHub's claims widens the pinned StringEquals; remove it"
