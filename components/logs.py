"""Log groups and the environment's log encryption key, shared by every component.

`awslogs` and flow logs create no log group of their own retention: the platform creates
each group explicitly, with retention, and with the environment's KMS key when `logs.kms`.
"""

from __future__ import annotations

import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.arns import POLICY_VERSION, account_root_arn, log_group_arn
from components.facts import PlatformFacts
from components.naming import bounded


def log_group_name(environment: str, key: str) -> str:
    """`/ecs/<env>/<key>`: a service's log group, or the cluster's ECS Exec group for
    configs.model.EXEC_LOG_KEY (a key no service may have)."""
    return bounded("aws:cloudwatch/logGroup:LogGroup", f"/ecs/{environment}/{key}")


def log_group(
    resource_name: str,
    *,
    log_group_name: str,
    retention_days: int,
    kms_key_arn: Optional[pulumi.Input[str]],
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )


def log_key_policy(facts: PlatformFacts) -> str:
    """Key policy: the account administers the key; CloudWatch Logs in this region may use it
    for this account's log groups only (the encryption context names the log group ARN)."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_root_arn(facts.partition, facts.account_id)},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsUse",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{facts.region}.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arn("*", facts)}
                    },
                },
            ],
        },
        sort_keys=True,
    )


def log_encryption_key(
    resource_name: str,
    *,
    facts: PlatformFacts,
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
    description: str = "Encrypts the environment's CloudWatch log groups",
) -> aws.kms.Key:
    """A rotated customer key whose policy (log_key_policy) also admits CloudWatch Logs."""
    return aws.kms.Key(
        resource_name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=log_key_policy(facts),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
