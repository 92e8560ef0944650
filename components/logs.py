"""Log groups and the environment's log encryption key, shared by every component.

`awslogs` and flow logs create no log group of their own retention: the platform creates
each group explicitly, with retention, and with the environment's KMS key when `logs.kms`.
"""

from __future__ import annotations

import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.facts import PlatformFacts


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
    account, region, partition = facts.account_id, facts.region, facts.partition
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsUse",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:*"
                        }
                    },
                },
            ],
        },
        sort_keys=True,
    )


def log_encryption_key(
    resource_name: str, *, facts: PlatformFacts, tags: dict[str, str], protect: bool, parent: pulumi.Resource
) -> aws.kms.Key:
    return aws.kms.Key(
        resource_name,
        description="Encrypts the environment's CloudWatch log groups",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=log_key_policy(facts),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
