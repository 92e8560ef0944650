"""ARN formats and the IAM policy language version, shared by every component that writes a
policy (IAM roles, key policies, repository policies, trust policies).

Kept apart from components/iam.py so modules iam.py never imports (logs, registry, network,
cluster) can use them without an import cycle.
"""

from __future__ import annotations

from components.facts import PlatformFacts

# The current IAM policy language version; every policy document names it.
POLICY_VERSION = "2012-10-17"


def account_root_arn(partition: str, account_id: str) -> str:
    """`arn:<partition>:iam::<account>:root`: the account as a principal (its IAM policies decide)."""
    return f"arn:{partition}:iam::{account_id}:root"


def log_group_arn(log_group_name: str, facts: PlatformFacts) -> str:
    """`arn:<partition>:logs:<region>:<account>:log-group:<name>`; `*` as the name covers every group."""
    return f"arn:{facts.partition}:logs:{facts.region}:{facts.account_id}:log-group:{log_group_name}"
