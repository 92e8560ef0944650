"""One Application Load Balancer per environment, with a route per exposed service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from configs.model import LoadBalancer as LoadBalancerConfig
from configs.model import Service as ServiceConfig
from components.naming import type_token


@dataclass(frozen=True)
class LoadBalancerArgs:
    load_balancer: LoadBalancerConfig
    environment: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: dict[str, pulumi.Input[str]]
    private_subnet_ids: dict[str, pulumi.Input[str]]
    routes: dict[str, ServiceConfig]  # the exposed services, by key
    deletion_protection: bool
    tags: dict[str, str]


class LoadBalancer(pulumi.ComponentResource):
    """Outputs: arn, arn_suffix, dns_name, url, security_group_id, listener_arn (where rules
    attach), target_group_arns and target_group_arn_suffixes (service key -> value)."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("load_balancer", "LoadBalancer"), name, None, opts)
        raise NotImplementedError("components/load_balancer.py: issue 5")
