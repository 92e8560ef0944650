"""AWS limits the environment file must respect, checked at load time with file:line.

What AWS would reject in `pulumi up` (or accept and then never serve) is refused here: tag
characters, image references, ALB rules (path and host patterns, rules and target groups per
load balancer, rules that can never match, repeated ingress CIDRs),
container-definition size, tasks that fit no instance type of their EC2 provider, zones the
region lacks and subnets too small for what they hold. Each check yields (YAML path, message).
"""

from __future__ import annotations

import datetime
import json
import math
import re
import unicodedata
from typing import Iterator

from configs.aws_limits import (
    ALB_HOST_PATTERN_MAX,
    ALB_PATH_PATTERN_MAX,
    ALB_RULES_MAX,
    ALB_TARGET_GROUPS_MAX,
    CONTAINER_DEFINITION_MAX_BYTES,
    ECS_REGISTERED_MEMORY_FRACTION,
    REGION_ZONES,
    SUBNET_RESERVED_ADDRESSES,
    ALB_FREE_ADDRESSES_PER_SUBNET,
)
from configs.endpoints import resolve_endpoints
from configs.errors import excerpt
from configs.instance_types import instance_type
from configs.arns import partition_of
from configs.model import EnvironmentConfig

Problem = tuple[tuple, str]

# Tag keys and values: Unicode letters, digits, white space and _ . : / = + - @ (Tag, AWS API).
# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
_TAG_PUNCTUATION = set("_.:/=+-@")
# ALB condition values: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
_PATH_PATTERN = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]+$")
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9\-.*?]+$")
# Gateway endpoints (S3) use route tables, not addresses in the subnets.
_GATEWAY_ENDPOINTS = {"s3"}


def _tag_character_problem(text: str) -> str | None:
    for char in text:
        if char in _TAG_PUNCTUATION or char.isalnum() or unicodedata.category(char).startswith(("L", "N", "Z")):
            continue
        return f"{excerpt(text)} contains {char!r}, which AWS does not allow in tags; use letters, digits, spaces and _ . : / = + - @"
    return None


def check_tag_characters(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for key, value in config.tags.items():
        for problem in (_tag_character_problem(key), _tag_character_problem(value)):
            if problem:
                yield ("tags", key), problem


# ---- the load balancer -------------------------------------------------------------------------


def check_ingress_cidrs(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    seen: dict = {}
    for index, cidr in enumerate(config.load_balancer.ingress_cidrs):
        first = seen.setdefault(cidr, index)
        if first != index:
            yield ("load_balancer", "ingress_cidrs", index), (
                f"{cidr} is already listed at ingress_cidrs[{first}]; list each CIDR once"
            )


def check_route_patterns(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for name, service in config.exposed_services.items():
        expose = service.expose
        for field, values, pattern, limit, allowed in (
            ("paths", expose.paths, _PATH_PATTERN, ALB_PATH_PATTERN_MAX, "letters, digits and _ - . $ / ~ \" ' @ : + & * ?"),
            ("hosts", expose.hosts, _HOST_PATTERN, ALB_HOST_PATTERN_MAX, "letters, digits and - . * ?"),
        ):
            for index, value in enumerate(values):
                path = ("services", name, "expose", field, index)
                if len(value) > limit:
                    yield path, f"{excerpt(value)} has {len(value)} characters; an ALB {field[:-1]} pattern has at most {limit}"
                elif not pattern.match(value):
                    bad = next(char for char in value if not pattern.match(char))
                    yield path, f"{excerpt(value)} contains {bad!r}; an ALB {field[:-1]} pattern may hold {allowed}"
                elif field == "paths" and not value.startswith("/") and not value.startswith("*"):
                    yield path, f"{excerpt(value)} never matches: request paths start with /; write /{value}"


def check_unreachable_rules(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """A rule whose conditions equal a rule of higher precedence (a lower priority number) can
    never match: the ALB stops at the first matching rule."""
    by_priority = sorted(config.exposed_services.items(), key=lambda item: item[1].expose.priority)
    for position, (name, service) in enumerate(by_priority):
        expose = service.expose
        for earlier_name, earlier in by_priority[:position]:
            if set(earlier.expose.hosts) != set(expose.hosts):
                continue
            shadowed = [p for p in expose.paths if p in earlier.expose.paths] if expose.paths else []
            if (not expose.paths and not earlier.expose.paths) or (expose.paths and len(shadowed) == len(expose.paths)):
                what = f"paths {', '.join(shadowed)}" if shadowed else f"hosts {', '.join(expose.hosts)}"
                yield ("services", name, "expose"), (
                    f"{what} are already routed to {earlier_name} at priority {earlier.expose.priority}, so this rule "
                    f"(priority {expose.priority}) never matches; route a different path or host"
                )
                break


def check_rules_per_load_balancer(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """100 rules and 100 target groups per ALB (default quotas, not counting default actions);
    ECS native blue/green, canary and linear deployments add a test rule and an alternate
    target group per service."""
    rules = groups = 0
    for service in config.exposed_services.values():
        extra = 1 if getattr(service.deployment, "native", False) else 0
        rules += 1 + extra
        groups += 1 + extra
    for count, limit, what in ((rules, ALB_RULES_MAX, "listener rules"), (groups, ALB_TARGET_GROUPS_MAX, "target groups")):
        if count > limit:
            yield ("services",), (
                f"the exposed services need {count} {what} on the shared load balancer (blue/green, canary and "
                f"linear services count twice), over the {limit} an ALB allows; expose fewer services or use rolling"
            )


# ---- tasks ---------------------------------------------------------------------------------------


def _task_entries(config: EnvironmentConfig):
    from configs.checks import task_entries  # services and jobs, with their YAML paths

    return task_entries(config)


def rendered_container_definitions(config: EnvironmentConfig, key: str, task) -> str:
    """The task's containerDefinitions JSON as components/task.py renders it (the main container
    and every sidecar), with each image reference at its full length: ECR images as
    `<account>.dkr.ecr.<region>.amazonaws.com/<env>/<repository>:<tag>`."""
    from components.facts import PlatformFacts
    from components.logs import log_group_name
    from components.task import container_definition, secret_value_from, sidecar_definition, volume_mounts

    region, account = config.aws.region, config.aws.account_id or "123456789012"
    facts = PlatformFacts(account, region, partition_of(region), (), {})

    def image(reference) -> str:
        if reference.uri is not None:
            return reference.uri
        return f"{account}.dkr.ecr.{region}.amazonaws.com/{config.environment}/{reference.repository}:{reference.tag}"

    group = log_group_name(config.environment, key)
    main = container_definition(
        key=key, task=task, image=image(task.image), log_group=group, region=region,
        secrets={variable: secret_value_from(ref, facts) for variable, ref in task.secrets.items()},
        exec_enabled=config.cluster.exec.enabled, port=getattr(task, "port", None),
        health_check=getattr(task, "health_check", None), uses_ec2=config.uses_ec2(key),
    )
    sidecars = [
        sidecar_definition(
            name=name, sidecar=sidecar, image=image(sidecar.image), log_group=group, region=region,
            secrets={variable: secret_value_from(ref, facts) for variable, ref in sidecar.secrets.items()},
            mounts=volume_mounts(task),
        )
        for name, sidecar in sorted(task.sidecars.items())
    ]
    return json.dumps([main, *sidecars], separators=(",", ":"))


def _largest_container(prefix: tuple, task) -> tuple:
    """The YAML path of the container whose environment, secrets and command weigh most."""
    def weight(container) -> int:
        return len(json.dumps([container.environment, list(container.secrets), container.command or []]))

    containers = [(prefix, task), *((prefix + ("sidecars", name), sidecar) for name, sidecar in task.sidecars.items())]
    path, _ = max(containers, key=lambda item: weight(item[1]))
    return path + ("environment",)


def check_container_definition_size(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """RegisterTaskDefinition refuses container definitions over 64 KiB together (every
    container of the task: the main one and its sidecars); the environment, secrets and command
    are what the file can make large."""
    for prefix, task in _task_entries(config):
        size = len(rendered_container_definitions(config, prefix[1], task).encode())
        if size > CONTAINER_DEFINITION_MAX_BYTES:
            containers = f" ({1 + len(task.sidecars)} containers)" if task.sidecars else ""
            yield _largest_container(prefix, task), (
                f"the container definitions{containers} would hold {size} bytes, over the "
                f"{CONTAINER_DEFINITION_MAX_BYTES} (64 KiB) ECS accepts for a task; move large environment values to a "
                "file in S3 or to secrets"
            )


def registered_memory(memory_mib: int) -> int:
    """Memory the ECS agent registers for tasks: installed memory minus the kernel and platform
    overhead (an m4.large's 8192 MiB registers as 7985 MiB, AWS's own example), with no
    ECS_RESERVED_MEMORY set by this platform's user data.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html"""
    return math.floor(memory_mib * ECS_REGISTERED_MEMORY_FRACTION)


def check_task_fits_its_instances(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    ec2 = config.cluster.capacity.ec2
    tasks = [*((("services", k), t) for k, t in config.services.items()), *((("jobs", k), t) for k, t in config.jobs.items())]
    for (section, name), service in tasks:
        for index, entry in enumerate(config.strategy_for(name)):
            provider = ec2.get(entry.provider)
            if provider is None:
                continue
            known = [t for t in map(instance_type, provider.instance_types) if t is not None]
            if len(known) < len(provider.instance_types):
                continue  # an unknown type may fit: the loader warns, and cannot judge
            if service.gpu:
                # Only types with enough GPUs can hold it (configs/workload_checks.py reports none).
                known = [t for t in known if t.gpus >= service.gpu]
                if not known:
                    continue
            if any(t.cpu_units >= service.cpu and registered_memory(t.memory_mib) >= service.memory for t in known):
                continue
            largest = max(known, key=lambda t: (t.memory_mib, t.cpu_units))
            yield (section, name, "cpu" if largest.cpu_units < service.cpu else "memory"), (
                f"cpu {service.cpu} / memory {service.memory} fits no instance type of provider {entry.provider}: the "
                f"largest, {largest.name}, registers {largest.cpu_units} CPU units and {registered_memory(largest.memory_mib)} "
                "MiB with ECS (installed memory less the kernel's share); size the task down or add a larger type"
            )


def unknown_instance_types(config: EnvironmentConfig) -> Iterator[Problem]:
    """Warnings, not errors: a type outside configs/instance_types.json may be new."""
    for key, provider in config.cluster.capacity.ec2.items():
        for index, name in enumerate(provider.instance_types):
            if instance_type(name) is None:
                yield ("cluster", "capacity", "ec2", key, "instance_types", index), (
                    f"{name} is not in configs/instance_types.json: whether tasks fit it, its GPUs and its price "
                    "are unchecked; add a row for it"
                )


# ---- the network -----------------------------------------------------------------------------------


def check_zones_of_the_region(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    region = config.aws.region
    letters = REGION_ZONES.get(region)
    if letters is None:
        return  # a region outside the table: the plan checks the zones AWS returns
    zones = config.network.availability_zones
    listed = ", ".join(f"{region}{letter}" for letter in letters)
    if isinstance(zones, int):
        if zones > len(letters):
            yield ("network", "availability_zones"), (
                f"{region} has {len(letters)} availability zones ({listed}); use availability_zones: {len(letters)} or fewer"
            )
        return
    for index, zone in enumerate(zones):
        if zone.startswith(region) and zone[len(region):] not in letters and re.fullmatch(r"[a-z]", zone[len(region):]):
            yield ("network", "availability_zones", index), f"{region} has no zone {zone}; its zones are {listed}"


def check_subnet_sizes(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Every task takes an address in a private subnet (awsvpc), as does every interface
    endpoint in every zone; the ALB needs 8 free addresses in each public subnet to scale."""
    network = config.network
    zones = network.availability_zones if isinstance(network.availability_zones, int) else len(network.availability_zones)
    private_free = 2 ** (32 - network.subnet_prefix.private) - SUBNET_RESERVED_ADDRESSES
    endpoints = len([e for e in resolve_endpoints(config) if e not in _GATEWAY_ENDPOINTS])
    tasks = sum(
        service.autoscaling.max if service.autoscaling else service.desired_count for service in config.services.values()
    )
    # ECS spreads tasks across zones; a rolling deploy at max_percent runs the old and new tasks.
    surge = max((service.deployment.max_percent for service in config.services.values()), default=100) / 100
    per_zone = endpoints + math.ceil(tasks * surge / zones)
    if per_zone > private_free:
        yield ("network", "subnet_prefix", "private"), (
            f"a /{network.subnet_prefix.private} private subnet has {private_free} usable addresses, but each zone needs "
            f"{per_zone} ({endpoints} endpoint interfaces and {math.ceil(tasks * surge / zones)} tasks at maximum scale "
            "during a deploy); use a shorter prefix"
        )
    public_free = 2 ** (32 - network.subnet_prefix.public) - SUBNET_RESERVED_ADDRESSES
    nat = 1 if network.nat != "none" else 0
    if config.exposed_services and public_free - nat < ALB_FREE_ADDRESSES_PER_SUBNET:
        yield ("network", "subnet_prefix", "public"), (
            f"a /{network.subnet_prefix.public} public subnet leaves {public_free - nat} free addresses, and the load "
            f"balancer needs {ALB_FREE_ADDRESSES_PER_SUBNET} in each zone; use /27 or shorter"
        )


LIMIT_CHECKS = (
    check_tag_characters,
    check_ingress_cidrs,
    check_route_patterns,
    check_unreachable_rules,
    check_rules_per_load_balancer,
    check_container_definition_size,
    check_task_fits_its_instances,
    check_zones_of_the_region,
    check_subnet_sizes,
)
