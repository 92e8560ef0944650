"""Rules that span fields or sections of the environment file.

Each check is a small function that yields (YAML path, message) for every problem it finds;
the loader adds file and line. Messages name the bad value and what would be valid.
"""

from __future__ import annotations

import datetime
import re
from typing import Callable, Iterable, Iterator

from configs.arns import ACCESS_LEVELS, access_actions, parse_arn, partition_of, placement_problems, reference_problems
from configs.aws_limits import FARGATE_MEMORY_BY_CPU, describe_fargate_memory
from configs.errors import excerpt
from configs.endpoints import required_endpoints
from configs.instance_types import NON_NVIDIA_GPU_FAMILY, ecs_ami_parameter, has_gpus
from configs.checks_delivery import DELIVERY_CHECKS
from configs.limit_checks import LIMIT_CHECKS
from configs.tier_checks import TIER_CHECKS
from configs.model import EXEC_LOG_KEY, Connection, EnvironmentConfig, StrategyEntry
from configs.strategy import capacity_problems, capacity_strategy_problems
from configs.subnets import allocate_subnets, assumed_zones
from policies.iam_meaning import action_pattern_problem, role_handover_problems, wildcard_resource_problems
from policies.iam_meaning import known_service, parse_arn as iam_arn
from policies.secret_values import value_problem

Problem = tuple[tuple, str]
Check = Callable[[EnvironmentConfig, datetime.date], Iterator[Problem]]

# Environment variable names that look like credentials belong in `secrets`: these words
# anywhere, or PWD, PASS, KEY, AUTH as a whole `_`-separated part. policies/config_gen.py passes this
# pattern to the pack's aws-ecs-task-definition-no-plaintext-secrets (secretNamePattern).
SECRET_LOOKING_NAME = re.compile(r"(?i)(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)|(^|_)(PWD|PASS|KEY|AUTH)(_|$)")
# Graviton families carry a `g` after the generation digit (m7g, c6gn, t4g, r8gd); a1 is the
# first-generation Graviton.
ARM_INSTANCE_TYPE = re.compile(r"^([a-z]+\d+g[a-z]*|a1)\.")
# AWS allows at most 50 user tags per resource.
MAX_TAGS = 50


def run_checks(config: EnvironmentConfig, today: datetime.date) -> Iterator[Problem]:
    for check in (*CHECKS, *LIMIT_CHECKS, *TIER_CHECKS, *_workload_checks()):
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


def check_gpu_capacity(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """A provider's launch template boots one AMI: the GPU-optimised one (NVIDIA driver and
    container runtime) for GPU types, the standard one otherwise. So a provider holds GPU types
    or types without GPUs, never both: managed scaling could launch a type without GPUs for a
    task that reserves one (which then never starts), and the other kind would boot the wrong AMI."""
    for key, provider in config.cluster.capacity.ec2.items():
        path = ("cluster", "capacity", "ec2", key, "instance_types")
        kinds = [has_gpus(name) for name in provider.instance_types]
        if not any(kinds):
            continue
        for index, name in enumerate(provider.instance_types):
            if NON_NVIDIA_GPU_FAMILY.match(name):
                yield path + (index,), (
                    f"{name} carries AMD GPUs, and ECS reserves NVIDIA GPUs only (its GPU-optimised AMI has NVIDIA's "
                    "driver); use an NVIDIA type such as g5.xlarge or g4dn.xlarge"
                )
        if not all(kinds):
            gpu_type = provider.instance_types[kinds.index(True)]
            for index, name in enumerate(provider.instance_types):
                if not kinds[index]:
                    yield path + (index,), (
                        f"{name} has no GPU but {gpu_type} in the same provider has: its instances boot one AMI "
                        f"(the GPU-optimised one), and managed scaling could launch {name} for a task that reserves "
                        "a GPU; put GPU and non-GPU types in separate providers"
                    )
        elif ecs_ami_parameter(provider.architecture, gpu=True) is None:
            for index, name in enumerate(provider.instance_types):
                yield path + (index,), (
                    f"{name} is an {provider.architecture} GPU type, and AWS publishes no GPU-optimised ECS AMI for "
                    f"{provider.architecture} on Amazon Linux 2023 (no NVIDIA driver would be installed); use x86_64 GPU "
                    "types such as g5.xlarge"
                )


def check_strategies(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    yield from _strategy_problems(config, config.cluster.default_strategy, ("cluster", "default_strategy"))
    for name, service in config.services.items():
        if service.capacity is not None:
            yield from _strategy_problems(config, service.capacity, ("services", name, "capacity"))


def _strategy_problems(config: EnvironmentConfig, strategy: list[StrategyEntry], path: tuple) -> Iterator[Problem]:
    """The shared strategy rules (configs/strategy.py), placed at this strategy's YAML path."""
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


def containers(config: EnvironmentConfig) -> Iterator[tuple[tuple, object]]:
    """(YAML path, model) of every container of the file: each service's and job's main
    container, then its sidecars."""
    for prefix, task in task_entries(config):
        yield prefix, task
        for name, sidecar in task.sidecars.items():
            yield prefix + ("sidecars", name), sidecar


def check_environment_variables(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for prefix, container in containers(config):
        for variable in container.environment:
            if SECRET_LOOKING_NAME.search(variable):
                yield prefix + ("environment", variable), (
                    f"{variable} looks like a credential; plain environment values show in the console and "
                    "task definition, so move it to secrets"
                )
            if variable in container.secrets:
                yield prefix + ("environment", variable), f"{variable} is also in secrets; keep one"


# ---- references (ARNs) ----------------------------------------------------------------------

# Services whose resources ECS, the ALB or the task reach in the environment's own region.
REGION_BOUND_SERVICES = frozenset({"acm", "kms", "secretsmanager", "sqs", "ssm"})


def task_entries(config: EnvironmentConfig) -> Iterator[tuple[tuple, object]]:
    """(YAML path, model) of every task of the file: services and jobs."""
    for name, service in config.services.items():
        yield ("services", name), service
    for name, job in config.jobs.items():
        yield ("jobs", name), job


def trusted_accounts(config: EnvironmentConfig) -> list[str]:
    """The accounts ARNs may name; empty (anything goes) when aws.account_id is not set."""
    account = config.aws.account_id
    return [account, *config.aws.trusted_accounts] if account else []


def check_references(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Certificates, KMS keys, secrets and parameters: one exact resource of the right service
    in this region, in this account or a trusted one."""
    region, accounts = config.aws.region, trusted_accounts(config)

    def judge(path: tuple, text: str, service: str, what: str, prefix: str) -> Iterator[Problem]:
        for message in reference_problems(text, service=service, what=what, region=region, accounts=accounts, resource_prefix=prefix):
            yield path, message

    if config.load_balancer.certificate_arn:
        yield from judge(("load_balancer", "certificate_arn"), config.load_balancer.certificate_arn, "acm", "an ACM certificate", "certificate/")
    for key, repository in config.registry.repositories.items():
        if repository.kms_key_arn:
            yield from judge(("registry", "repositories", key, "kms_key_arn"), repository.kms_key_arn, "kms", "a KMS key", "key/")
    for prefix, task in task_entries(config):
        containers = [(prefix, task), *((prefix + ("sidecars", key), sidecar) for key, sidecar in task.sidecars.items())]
        references = [(where + ("secrets", variable), ref) for where, container in containers for variable, ref in container.secrets.items()]
        for path, ref in references:
            if ref.secret:
                yield from judge(path + ("secret",), ref.secret, "secretsmanager", "a Secrets Manager secret", "secret:")
            if ref.kms_key:
                yield from judge(path + ("kms_key",), ref.kms_key, "kms", "a KMS key", "key/")
            if ref.parameter and ref.parameter.startswith("arn:"):
                yield from judge(path + ("parameter",), ref.parameter, "ssm", "an SSM parameter", "parameter/")
            elif ref.parameter and any(char in ref.parameter for char in "*?"):
                yield path + ("parameter",), (
                    f"{excerpt(ref.parameter)} has a wildcard; name exactly one parameter, since a pattern would grant every match"
                )


def check_access(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Access levels name exact resources of known services; every level grants an action."""
    region, accounts = config.aws.region, trusted_accounts(config)
    for prefix, service in task_entries(config):
        requested: dict[str, tuple[tuple, list[str]]] = {}
        for field, level in ACCESS_LEVELS:
            for index, arn in enumerate(getattr(service.access, field)):
                path = prefix + ("access", field.rstrip("_"), index)
                first = requested.setdefault(arn, (path, []))
                if level not in first[1]:
                    first[1].append(level)
        for arn, (path, levels) in requested.items():
            try:
                parsed = parse_arn(arn)
            except ValueError as error:
                yield path, str(error)
                continue
            if any(char in parsed.resource for char in "*?"):
                yield path, (
                    f"{excerpt(arn)} has a wildcard: access levels would grant every {', '.join(levels)} action on "
                    "every match; name the resource, or write the exact actions in permissions"
                )
                continue
            regional = parsed.service in REGION_BOUND_SERVICES
            for message in placement_problems(parsed, region=region, accounts=accounts, regional=regional):
                yield path, message
            try:
                access_actions(arn, levels)
            except ValueError as error:
                yield path, str(error)


def check_permission_resources(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Resources of explicit statements are ARNs of known services in trusted accounts ("*" is
    judged by the policy pack, which knows which actions have no resource-level permission)."""
    region, accounts = config.aws.region, trusted_accounts(config)
    for prefix, service in task_entries(config):
        for index, statement in enumerate(service.permissions):
            for position, resource in enumerate(statement.resources):
                if resource == "*":
                    continue
                path = prefix + ("permissions", index, "resources", position)
                try:
                    parsed = parse_arn(resource)
                except ValueError as error:
                    yield path, str(error)
                    continue
                for message in placement_problems(parsed, region=region, accounts=accounts, regional=False):
                    yield path, message


def check_task_role_policy_size(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """IAM refuses a role whose inline policies exceed 10,240 characters: render the task role's
    policy as the service component will, with the exec ARNs at their real length."""
    from components.iam import PolicyTooLargeError, render, task_policy_document  # the document itself

    exec_on = config.cluster.exec.enabled
    account = config.aws.account_id or "123456789012"
    partition = partition_of(config.aws.region)
    key_arn = f"arn:{partition}:kms:{config.aws.region}:{account}:key/00000000-0000-0000-0000-000000000000"
    group_arn = f"arn:{partition}:logs:{config.aws.region}:{account}:log-group:/ecs/{config.environment}/{EXEC_LOG_KEY}:*"
    for prefix, service in task_entries(config):
        if not service.has_task_role:
            continue
        try:
            render(task_policy_document(
                service.permissions, service.access, exec_enabled=exec_on,
                exec_kms_key_arn=key_arn if exec_on else None, exec_log_group_arn=group_arn if exec_on else None,
                queue=service.consumed_queue,
            ))
        except PolicyTooLargeError as error:
            where = "permissions" if service.permissions else "access"
            yield prefix + (where,), str(error).replace("the policy is", "the task role's policy is", 1)
        except ValueError:
            continue  # an access level without actions: check_access reports it


def check_execution_role_policy_size(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """The execution role's policy grows with the secrets and parameters every container of the
    task references (and their keys): rendered as components/task.py will, refused over IAM's
    10,240 characters before anything is registered."""
    from components.facts import PlatformFacts
    from components.iam import PolicyTooLargeError, execution_grants, execution_policy_document, render
    from components.logs import log_group_name
    from components.task import image_repository_arn, repository_arn_of

    region, account = config.aws.region, config.aws.account_id or "123456789012"
    facts = PlatformFacts(account, region, partition_of(region), (), {})
    for prefix, task in task_entries(config):
        key = prefix[1]
        group = log_group_name(config.environment, key)
        grants = execution_grants(
            task, repository_arn=image_repository_arn(task, config.environment, facts),
            log_group_arn=f"arn:{facts.partition}:logs:{region}:{account}:log-group:{group}", facts=facts,
            sidecar_repository_arns=tuple(
                arn for sidecar in task.sidecars.values() if (arn := repository_arn_of(sidecar.image, config.environment, facts))
            ),
        )
        try:
            render(execution_policy_document(grants))
        except PolicyTooLargeError as error:
            where = max(containers_of(prefix, task), key=lambda item: len(item[1].secrets))[0]
            yield where + ("secrets",), (
                str(error).replace("the policy is", "the execution role's policy (the secrets and parameters of every "
                                   "container, their keys) is", 1).split("; narrow")[0]
                + "; reference fewer secrets (one secret can hold many values: use key: to pick one)"
            )


def containers_of(prefix: tuple, task) -> list[tuple[tuple, object]]:
    return [(prefix, task), *((prefix + ("sidecars", name), sidecar) for name, sidecar in task.sidecars.items())]


def check_secret_values(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Credentials in plain values (policies/secret_values.py, the pack's judgement too)."""
    for prefix, container in containers(config):
        for variable, value in container.environment.items():
            problem = value_problem(value, variable)
            if problem:
                yield prefix + ("environment", variable), (
                    f"{variable} {problem}; plain values show in the console and the task definition, so move it to secrets"
                )
        for index, word in enumerate(container.command or []):
            problem = value_problem(word)
            if problem:
                yield prefix + ("command", index), f"the command {problem}; pass it through secrets instead"


# ---- IAM: the pack's judgement (policies/iam_meaning.py), refused before anything exists -------


def _placement_problem(resource: str) -> bool:
    if resource == "*":
        return False
    arn = iam_arn(resource)
    return arn is None or not known_service(arn.service) or any(c in arn.account + arn.region for c in "*?")


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
                if _placement_problem(resource):
                    continue  # check_permission_resources names it (not an ARN, unknown service, account, region)
                for problem in wildcard_resource_problems(statement.actions, [resource]):
                    yield path + ("resources", position), f"{problem}; name the exact ARNs"
            # permissions carry no Condition, so PassRole can never be limited to a service here.
            for problem in role_handover_problems(statement.actions, statement.resources, None):
                yield path, f"{problem}; the platform creates the roles tasks need"


# ---- governance (policies/governance.yaml) ----------------------------------------------------


def check_required_tags(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    from configs.governance import GOVERNANCE_NAME, missing_tags

    missing = missing_tags(config.all_tags)
    if missing:
        yield ("tags",), f"missing the required tags {', '.join(missing)}; add them under tags ({GOVERNANCE_NAME} requires them)"


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
    check_gpu_capacity,
    check_strategies,
    check_service_placement,
    check_service_keys,
    check_images,
    check_exposure,
    check_autoscaling,
    check_deployment,
    check_connections,
    check_environment_variables,
    check_references,
    check_access,
    check_permission_resources,
    check_task_role_policy_size,
    check_execution_role_policy_size,
    check_permission_patterns,
    check_secret_values,
    check_required_tags,
    check_tags,
    *DELIVERY_CHECKS,
)


def _workload_checks() -> tuple[Check, ...]:
    from configs.scaling_checks import SCALING_CHECKS  # these import this module's helpers
    from configs.workload_checks import WORKLOAD_CHECKS

    return (*WORKLOAD_CHECKS, *SCALING_CHECKS)
