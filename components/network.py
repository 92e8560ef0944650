"""The VPC: subnets per zone and tier, NAT per strategy, flow logs and VPC endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from configs.model import Network as NetworkConfig
from components.naming import type_token


@dataclass(frozen=True)
class NetworkArgs:
    network: NetworkConfig
    zones: tuple[str, ...]  # resolved once per stack (components/facts.py)
    region: str
    endpoints: tuple[str, ...]  # resolved endpoint suffixes (configs/endpoints.resolve_endpoints)
    tags: dict[str, str]
    log_kms_key_arn: Optional[pulumi.Input[str]]
    protect: bool


class Network(pulumi.ComponentResource):
    """Outputs: vpc_id, vpc_cidr (str), public_subnet_ids / private_subnet_ids and
    private_route_table_ids (zone -> id), endpoint_security_group_id (None without interface
    endpoints)."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("network", "Network"), name, None, opts)
        raise NotImplementedError("components/network.py: issue 3")
