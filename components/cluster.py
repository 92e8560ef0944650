"""The ECS cluster and its capacity providers: Fargate, Fargate Spot and EC2 Auto Scaling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from configs.model import Cluster as ClusterConfig
from components.facts import PlatformFacts
from components.naming import type_token


@dataclass(frozen=True)
class ClusterArgs:
    cluster: ClusterConfig
    environment: str
    facts: PlatformFacts
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]  # zone -> subnet id
    exec_log_retention_days: int
    log_kms_key_arn: Optional[pulumi.Input[str]]
    tags: dict[str, str]
    protect: bool


class Cluster(pulumi.ComponentResource):
    """Outputs: cluster_name, cluster_arn, capacity_provider_names (key -> name, fargate and
    fargate_spot included), capacity_providers (the ClusterCapacityProviders resource that
    services depend on), instance_security_group_id (None without EC2 providers),
    exec_kms_key_arn (None unless exec is on)."""

    def __init__(self, name: str, args: ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("cluster", "Cluster"), name, None, opts)
        raise NotImplementedError("components/cluster.py: issue 4")
