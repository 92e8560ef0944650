"""Facts about the account and region, looked up once per stack and passed to components.

A synchronous invoke inside every component makes registration super-linear, so each
invoke is made here, once, before any resource is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi_aws as aws

from configs.instance_types import ecs_ami_parameter, is_gpu_provider
from configs.model import Ec2Provider, EnvironmentConfig
from configs.subnets import allocate_subnets


@dataclass(frozen=True)
class PlatformFacts:
    account_id: str
    region: str
    partition: str
    zones: tuple[str, ...]
    ecs_amis: dict[str, str]  # SSM parameter name -> AMI id, for the AMIs EC2 providers boot (provider_ami_parameter)
    # The account's ECR repository names in the region when the stack started; None: not looked
    # up (every repository counts as existing). The first-deploy bootstrap reads it.
    existing_repositories: Optional[frozenset[str]] = None

    def repository_exists(self, name: str) -> bool:
        return self.existing_repositories is None or name in self.existing_repositories


class FactsMismatchError(Exception):
    """The account or region differs from what the environment file was validated against."""


class WrongAccountError(FactsMismatchError):
    pass


class ZoneLayoutError(FactsMismatchError):
    pass


def lookup_facts(config: EnvironmentConfig) -> PlatformFacts:
    identity = aws.get_caller_identity()
    if config.aws.account_id and identity.account_id != config.aws.account_id:
        raise WrongAccountError(
            f"configs/{config.environment}.yaml: aws.account_id is {config.aws.account_id}, but the credentials "
            f"belong to {identity.account_id}; switch credentials (AWS_PROFILE) or fix the file"
        )
    zones = _zones(config)
    check_zone_layout(config, zones)
    # One invoke per parameter, however many providers boot that AMI.
    parameters = sorted({provider_ami_parameter(p) for p in config.cluster.capacity.ec2.values()})
    amis = {name: aws.ssm.get_parameter(name=name).value for name in parameters}
    partition = aws.get_partition().partition
    return PlatformFacts(identity.account_id, config.aws.region, partition, zones, amis, _existing_repositories(config))


def provider_ami_parameter(provider: Ec2Provider) -> str:
    """The SSM parameter of the ECS-optimised AMI a provider's instances boot: the GPU variant
    for GPU instance types (configs/instance_types.py; the loader refuses GPU types of an
    architecture without one), the standard one otherwise."""
    parameter = ecs_ami_parameter(provider.architecture, gpu=is_gpu_provider(provider.instance_types))
    if parameter is None:
        raise ValueError(f"no ECS-optimised GPU AMI for {provider.architecture}; the loader refuses such a provider")
    return parameter


def _existing_repositories(config: EnvironmentConfig) -> Optional[frozenset[str]]:
    """Every repository name of the account and region, one invoke per stack: a service whose
    repository does not exist yet is not created in this `pulumi up` (components/service.py)."""
    if not config.registry.repositories:
        return None
    names = aws.ecr.get_repositories().names
    # AWS always answers a list (empty in a new account); no list at all is "unknown".
    return None if names is None else frozenset(names)


def check_zone_layout(config: EnvironmentConfig, zones: tuple[str, ...]) -> None:
    """Validation assumed the region's first zone letters for `availability_zones: N`; the
    account may lack one (us-east-1 often has no 1e), and a later letter needs a later subnet
    slot. Checked here, before anything is registered, with the zones AWS actually returned."""
    network = config.network
    try:
        allocate_subnets(network.cidr, list(zones), network.subnet_prefix.public, network.subnet_prefix.private)
    except ValueError as error:
        raise ZoneLayoutError(
            f"configs/{config.environment}.yaml: network.subnet_prefix: with the zones this account offers "
            f"({', '.join(zones)}), {error}"
        ) from None


def _zones(config: EnvironmentConfig) -> tuple[str, ...]:
    wanted = config.network.availability_zones
    if isinstance(wanted, list):
        return tuple(sorted(wanted))
    available = aws.get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    )
    return tuple(sorted(available.names)[:wanted])
