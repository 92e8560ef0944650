"""One ECS service: log group, task definition, roles, security group, autoscaling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from configs.model import Service as ServiceConfig
from configs.model import StrategyEntry
from components.facts import PlatformFacts
from components.naming import type_token


@dataclass(frozen=True)
class ServiceArgs:
    key: str
    service: ServiceConfig
    environment: str
    facts: PlatformFacts
    strategy: tuple[StrategyEntry, ...]  # resolved: the service's or the cluster default
    uses_ec2: bool
    architecture: str
    deploys: str  # pulumi | ci
    exec_enabled: bool
    log_retention_days: int
    log_kms_key_arn: Optional[pulumi.Input[str]]
    image: pulumi.Input[str]  # the full image reference (ECR URL:tag or the configured uri)
    repository_arn: Optional[pulumi.Input[str]]  # None for a uri image
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    capacity_provider_names: dict[str, pulumi.Input[str]]
    capacity_providers: pulumi.Resource  # services wait until providers are attached
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]
    load_balancer_security_group_id: Optional[pulumi.Input[str]]
    target_group_arn: Optional[pulumi.Input[str]]
    request_count_label: Optional[pulumi.Input[str]]  # "<alb arn suffix>/<target group arn suffix>"
    exec_kms_key_arn: Optional[pulumi.Input[str]]
    tags: dict[str, str]
    protect: bool


class Service(pulumi.ComponentResource):
    """Outputs: service_name, security_group_id, task_definition_arn, execution_role_arn,
    task_role_arn (None without a task role), log_group_name."""

    def __init__(self, name: str, args: ServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("service", "Service"), name, None, opts)
        raise NotImplementedError("components/service.py: issue 5")


def connect_services(services: dict[str, "Service"], configs: dict[str, ServiceConfig]) -> None:
    """`connects_to`: egress on the source's group and ingress on the target (another service's
    group or an external one), created after every service exists so peers can refer to
    each other both ways."""
    raise NotImplementedError("components/service.py: issue 5")
