"""Rules that span fields or sections of the environment file.

Each check is a small function that yields (YAML path, message) for every problem it finds;
the loader adds file and line. Messages name the bad value and what would be valid.
"""

from __future__ import annotations

import datetime
import re
from typing import Callable, Iterable, Iterator

from configs.aws_limits import FARGATE_MEMORY_BY_CPU, describe_fargate_memory
from configs.errors import excerpt
from configs.endpoints import required_endpoints
from configs.checks_delivery import DELIVERY_CHECKS
from configs.model import EXEC_LOG_KEY, Connection, EnvironmentConfig, StrategyEntry
from configs.strategy import SPOT_ARM64, capacity_problems, capacity_strategy_problems
from configs.subnets import allocate_subnets, assumed_zones
from policies.iam_meaning import (
    action_pattern_problem,
    resource_wildcard,
    role_handover_problems,
    wildcard_resource_problems,
)

Problem = tuple[tuple, str]
Check = Callable[[EnvironmentConfig, datetime.date], Iterator[Problem]]

# Environment variable names that look like credentials belong in `secrets`: these words
# anywhere, or PWD, KEY, AUTH as a whole `_`-separated part. policies/config_gen.py passes this
# pattern to the pack's aws-ecs-task-definition-no-plaintext-secrets (secretNamePattern).
SECRET_LOOKING_NAME = re.compile(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)|(^|_)(PWD|KEY|AUTH)(_|$)")
# Graviton families carry a `g` after the generation digit (m7g, c6gn, t4g, r8gd); a1 is the
# first-generation Graviton.
ARM_INSTANCE_TYPE = re.compile(r"^([a-z]+\d+g[a-z]*|a1)\.")
# AWS allows at most 50 user tags per resource.
MAX_TAGS = 50


def run_checks(config: EnvironmentConfig, today: datetime.date) -> Iterator[Problem]:
    for check in CHECKS:
        yield from check(config, today)


# ---- network ---------------------------------------------------------------------------------


def check_subnets(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    network = config.network
    zones = network.availability_zones
    if isinstance(zones, int):
        zones = assumed_zones(config.aws.region, zones)
    else:
        misnamed = False
        for index, zone in enumerate(zones):
            if not (zone.startswith(config.aws.region) and re.fullmatch(r"[a-z]", zone[len(config.aws.region):])):
                misnamed = True
                yield ("network", "availability_zones", index), (
                    f"{excerpt(zone)} is not a zone of {config.aws.region}; use names such as {config.aws.region}a"
                )
        if len(set(zones)) != len(zones):
            yield ("network", "availability_zones"), "a zone is listed twice; list each zone once"
            return
        if misnamed:
            return
    try:
        allocate_subnets(network.cidr, list(zones), network.subnet_prefix.public, network.subnet_prefix.private)
    except ValueError as error:
        yield ("network", "subnet_prefix"), str(error)


def check_nat(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    if config.network.nat == "per_az" and _zone_count(config) == 1:
        yield ("network", "nat"), "per_az with a single availability zone is one NAT gateway; write nat: single"


def _zone_count(config: EnvironmentConfig) -> int:
    zones = config.network.availability_zones
    return zones if isinstance(zones, int) else len(zones)


def check_load_balancer_zones(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    exposed = sorted(config.exposed_services)
    if exposed and _zone_count(config) < 2:
        yield ("network", "availability_zones"), (
            f"an Application Load Balancer needs subnets in at least 2 zones and {', '.join(exposed)} "
            "is exposed; use availability_zones: 2 or more"
        )


def check_endpoints(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    endpoints = config.network.endpoints
    if endpoints == "auto":
        return
    for index, endpoint in enumerate(endpoints):
        if endpoint in endpoints[:index]:
            yield ("network", "endpoints", index), f"{endpoint} is listed twice; list each endpoint once"
    if config.network.nat != "none":
        return
    missing = sorted(set(required_endpoints(config)) - set(endpoints))
    if missing:
        yield ("network", "endpoints"), (
            f"with nat: none, tasks reach AWS only through endpoints, and {', '.join(missing)} "
            "are missing; add them or write endpoints: auto"
        )


# ---- capacity --------------------------------------------------------------------------------


def check_capacity_providers(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    capacity = config.cluster.capacity
    # The rules the cluster component applies too; each provider's own problems stay together.
    shared = dict(capacity_problems(capacity))
    for name, provider in capacity.ec2.items():
        path = ("cluster", "capacity", "ec2", name)
        if path in shared:
            yield path, shared.pop(path)
        if provider.min_size > provider.max_size:
            yield path + ("min_size",), f"min_size {provider.min_size} is above max_size {provider.max_size}"
        if provider.on_demand_base > provider.max_size:
            yield path + ("on_demand_base",), f"on_demand_base {provider.on_demand_base} is above max_size {provider.max_size}"
        for index, instance_type in enumerate(provider.instance_types):
            is_arm = bool(ARM_INSTANCE_TYPE.match(instance_type))
            if is_arm != (provider.architecture == "arm64"):
                yield path + ("instance_types", index), (
                    f"{instance_type} is {'arm64' if is_arm else 'x86_64'} but the provider's architecture is "
                    f"{provider.architecture}; use {'Graviton (m7g, c7g, ...)' if provider.architecture == 'arm64' else 'Intel/AMD (m6i, m7a, ...)'} types"
                )
    yield from shared.items()


def check_strategies(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    yield from _strategy_problems(config, config.cluster.default_strategy, ("cluster", "default_strategy"))
    for name, service in config.services.items():
        if service.capacity is not None:
            yield from _strategy_problems(config, service.capacity, ("services", name, "capacity"))


def _strategy_problems(config: EnvironmentConfig, strategy: list[StrategyEntry], path: tuple) -> Iterator[Problem]:
    """The shared strategy rules (configs/strategy.py), placed at this strategy's YAML path.
    Fargate Spot on arm64 is judged by check_service_placement, at the service's architecture."""
    for relative, message in capacity_strategy_problems(strategy, config.cluster.capacity):
        yield path + relative, message


def check_service_placement(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    ec2 = config.cluster.capacity.ec2
    for name, service in config.services.items():
        strategy = config.strategy_for(name)
        on_ec2 = any(entry.provider in ec2 for entry in strategy)
        ec2_arch = {ec2[e.provider].architecture for e in strategy if e.provider in ec2}
        if service.architecture and ec2_arch and service.architecture not in ec2_arch:
            yield ("services", name, "architecture"), (
                f"{service.architecture} does not match its EC2 capacity ({', '.join(sorted(ec2_arch))}); "
                "remove architecture, it follows the provider"
            )
        uses_spot = any(entry.provider == "fargate_spot" for entry in strategy)
        if uses_spot and service.architecture == "arm64":
            yield ("services", name, "architecture"), SPOT_ARM64
        if not on_ec2:
            yield from _fargate_size(name, service.cpu, service.memory)


def _fargate_size(name: str, cpu: int, memory: int) -> Iterator[Problem]:
    if cpu not in FARGATE_MEMORY_BY_CPU:
        yield ("services", name, "cpu"), (
            f"{cpu} is not a Fargate CPU size; use one of {', '.join(str(c) for c in FARGATE_MEMORY_BY_CPU)}"
        )
    elif memory not in FARGATE_MEMORY_BY_CPU[cpu]:
        yield ("services", name, "memory"), (
            f"{memory} is not valid with cpu {cpu} on Fargate; use {describe_fargate_memory(cpu)}"
        )


# ---- services --------------------------------------------------------------------------------


def check_service_keys(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    if EXEC_LOG_KEY in config.services:
        log_group = f"/ecs/{config.environment}/{EXEC_LOG_KEY}"
        yield ("services", EXEC_LOG_KEY), (
            f"{EXEC_LOG_KEY!r} is reserved: its log group {log_group} would be the cluster's ECS Exec "
            "session log group; rename the service"
        )


def check_images(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    repositories = sorted(config.registry.repositories)
    for name, service in config.services.items():
        repository = service.image.repository
        if repository is not None and repository not in config.registry.repositories:
            yield ("services", name, "image", "repository"), (
                f"{repository!r} is not in registry.repositories ({', '.join(repositories) or 'none declared'}); "
                "declare it or use image.uri"
            )


def check_exposure(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    priorities: dict[int, str] = {}
    for name, service in config.services.items():
        if service.expose is not None:
            if service.port is None:
                yield ("services", name, "expose"), "an exposed service needs a port for the load balancer to reach"
            owner = priorities.setdefault(service.expose.priority, name)
            if owner != name:
                yield ("services", name, "expose", "priority"), (
                    f"priority {service.expose.priority} is already used by {owner}; listener rule priorities are unique"
                )
        autoscaling = service.autoscaling
        if autoscaling and autoscaling.requests_per_target is not None and service.expose is None:
            yield ("services", name, "autoscaling", "requests_per_target"), (
                "requests_per_target needs the service to be exposed on the load balancer; use cpu or memory"
            )


def check_autoscaling(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for name, service in config.services.items():
        scaling = service.autoscaling
        if scaling is None:
            continue
        if scaling.min > scaling.max:
            yield ("services", name, "autoscaling", "min"), f"min {scaling.min} is above max {scaling.max}"
        elif not scaling.min <= service.desired_count <= scaling.max:
            yield ("services", name, "desired_count"), (
                f"{service.desired_count} is outside autoscaling {scaling.min}-{scaling.max}; pick a count in that range"
            )


def check_deployment(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for name, service in config.services.items():
        deployment = service.deployment
        if deployment.min_healthy_percent == 0 and deployment.max_percent == 100:
            yield ("services", name, "deployment"), (
                "min_healthy_percent 0 with max_percent 100 stops every task before starting new ones; raise max_percent"
            )
        elif deployment.min_healthy_percent == deployment.max_percent == 100:
            # ECS may neither stop an old task nor start an extra one: the rollout never moves.
            yield ("services", name, "deployment"), (
                "min_healthy_percent 100 with max_percent 100 leaves a rolling deploy no room to start or stop "
                "a task; use max_percent 200"
            )


def check_connections(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for name, service in config.services.items():
        seen: set[tuple[str, int]] = set()
        for index, connection in enumerate(service.connects_to):
            path = ("services", name, "connects_to", index)
            target = connection.service
            if target is not None and target not in config.services:
                yield path + ("service",), (
                    f"{target!r} is not a service of this environment; services: {', '.join(sorted(config.services))}"
                )
            elif target == name:
                yield path + ("service",), "a service reaches itself without a rule; remove this entry"
            elif target is not None and config.services[target].port is None:
                yield path + ("service",), (
                    f"{target} has no port, so nothing can connect to it; set services.{target}.port or remove this entry"
                )
            elif target is not None and config.services[target].port != connection.port:
                yield path + ("port",), (
                    f"{target} listens on {config.services[target].port}, not {connection.port}"
                )
            yield from _external_target_problems(config, connection, path)
            key = (connection.target, connection.port)
            if key in seen:
                yield path, f"{connection.target} port {connection.port} is listed twice"
            seen.add(key)


def _external_target_problems(config: EnvironmentConfig, connection: Connection, path: tuple) -> Iterator[Problem]:
    """Targets outside the stack. A security group rule may reference a group only in the same
    VPC (or a peered VPC in the same region with an active peering connection), and every group
    this stack creates is reached by `service:`; any other group id is therefore in another
    VPC and AWS would reject the rule at `pulumi up`.
    https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"""
    if connection.security_group is not None:
        yield path + ("security_group",), (
            f"{connection.security_group} is not a security group this stack creates: a group outside the stack "
            "is in another VPC, and AWS rejects rules that reference it; reach it by its network "
            f"({{cidr: <its subnet CIDR>, port: {connection.port}}}) or a managed prefix list "
            f"({{prefix_list: pl-..., port: {connection.port}}}), or use service: for a service of this environment"
        )
    if connection.cidr is not None and connection.cidr.overlaps(config.network.cidr):
        yield path + ("cidr",), (
            f"{connection.cidr} overlaps this environment's VPC ({config.network.cidr}); only this stack's services "
            "live there, so connect with service: <key>, or name the outside network"
        )


def check_environment_variables(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for name, service in config.services.items():
        for variable in service.environment:
            if SECRET_LOOKING_NAME.search(variable):
                yield ("services", name, "environment", variable), (
                    f"{variable} looks like a credential; plain environment values show in the console and "
                    "task definition, so move it to secrets"
                )
            if variable in service.secrets:
                yield ("services", name, "environment", variable), f"{variable} is also in secrets; keep one"


def check_account_references(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """ARNs of secrets and certificates must live in this environment's region (and account)."""
    region, account = config.aws.region, config.aws.account_id
    references: list[tuple[tuple, str]] = []
    if config.load_balancer.certificate_arn:
        references.append((("load_balancer", "certificate_arn"), config.load_balancer.certificate_arn))
    for name, service in config.services.items():
        for variable, ref in service.secrets.items():
            if ref.secret:
                references.append((("services", name, "secrets", variable, "secret"), ref.secret))
    for path, arn in references:
        parts = arn.split(":")
        if parts[3] != region:
            yield path, f"{arn} is in {parts[3] or 'no region'}, not {region}; ECS and the ALB read it from {region}"
        elif account and parts[4] != account:
            yield path, f"{arn} belongs to account {parts[4]}, not {account}"


# ---- IAM: the pack's judgement (policies/iam_meaning.py), refused before anything exists -------


def check_permission_patterns(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """What aws-iam-no-wildcard-actions, -resources and -pass-role-scoped would reject."""
    for name, service in config.services.items():
        for index, statement in enumerate(service.permissions):
            path = ("services", name, "permissions", index)
            for position, action in enumerate(statement.actions):
                problem = action_pattern_problem(action)
                if problem:
                    yield path + ("actions", position), f"{problem}; list the actions, or use `access` levels"
            for position, resource in enumerate(statement.resources):
                for problem in wildcard_resource_problems(statement.actions, [resource]):
                    yield path + ("resources", position), f"{problem}; name the exact ARNs"
            # permissions carry no Condition, so PassRole can never be limited to a service here.
            for problem in role_handover_problems(statement.actions, statement.resources, None):
                yield path, f"{problem}; the platform creates the roles tasks need"


def check_access_arns(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Access levels grant every action of the level on each ARN: a wildcard ARN is refused."""
    for name, service in config.services.items():
        for level in ("read", "write", "list_", "tagging"):
            for index, arn in enumerate(getattr(service.access, level)):
                reason = resource_wildcard(arn)
                if reason:
                    yield ("services", name, "access", level.rstrip("_"), index), (
                        f"{reason}: {level.rstrip('_')} would grant every such action on it; name the exact ARNs"
                    )


def check_secret_reference_wildcards(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """The execution role is granted exactly these ARNs: a wildcard would read other secrets or
    decrypt with other keys."""
    for name, service in config.services.items():
        for variable, ref in service.secrets.items():
            for field in ("secret", "parameter", "kms_key"):
                value = getattr(ref, field)
                if value is not None and ("*" in value or "?" in value) and resource_wildcard(value):
                    yield ("services", name, "secrets", variable, field), (
                        f"{value!r} has a wildcard; the execution role reads exactly what is named here, so name one"
                    )


# ---- policy ----------------------------------------------------------------------------------


def check_waivers(config: EnvironmentConfig, today: datetime.date) -> Iterator[Problem]:
    seen: dict[tuple[str, str], int] = {}
    for index, waiver in enumerate(config.policy.waivers):
        first = seen.setdefault((waiver.policy, waiver.resource), index)
        if first != index:
            yield ("policy", "waivers", index), (
                f"{waiver.policy} is already waived for {waiver.resource} in policy.waivers[{first}]; keep one"
            )
        if waiver.expires < today:
            yield ("policy", "waivers", index, "expires"), (
                f"the waiver of {waiver.policy} for {waiver.resource} expired on {waiver.expires}; "
                "fix the resource or renew the waiver with a new reason"
            )


def check_required_tags(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    missing = [tag for tag in config.policy.required_tags if tag not in config.all_tags]
    if missing:
        yield ("tags",), (
            f"missing the required tags {', '.join(missing)}; add them under tags (policy.required_tags lists them)"
        )


def check_tags(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    env = config.tags.get("env")
    if env is not None and env != config.environment:
        yield ("tags", "env"), (
            f"env {excerpt(env)} contradicts environment {config.environment!r}; the env tag is set from "
            "environment, so remove it"
        )
    if "service" in config.tags:
        yield ("tags", "service"), "service is set per service by the platform (its key); remove it"
    # A service's resources carry one more tag than the environment's: service=<key>.
    widest = len(config.service_tags(next(iter(config.services)))) if config.services else len(config.all_tags)
    if widest > MAX_TAGS:
        yield ("tags",), (
            f"{widest} tags with env and service; AWS allows at most {MAX_TAGS} per resource, so remove "
            f"{widest - MAX_TAGS}"
        )


CHECKS: tuple[Check, ...] = (
    check_subnets,
    check_nat,
    check_load_balancer_zones,
    check_endpoints,
    check_capacity_providers,
    check_strategies,
    check_service_placement,
    check_service_keys,
    check_images,
    check_exposure,
    check_autoscaling,
    check_deployment,
    check_connections,
    check_environment_variables,
    check_account_references,
    check_permission_patterns,
    check_access_arns,
    check_secret_reference_wildcards,
    check_waivers,
    check_required_tags,
    check_tags,
    *DELIVERY_CHECKS,
)
