"""`network.endpoints: auto`: the VPC endpoints an environment needs, derived from what it uses.

A pure function of the validated model, shared by the network component, the config checks
(an explicit list with `nat: none` must contain these) and the policy pack's configuration.
The rule itself is policies/endpoint_needs.py, which the pack applies to the resources.
"""

from __future__ import annotations

from collections.abc import Iterator

from configs.model import EnvironmentConfig, Task
from policies.endpoint_needs import BASELINE, CALLED_SERVICE_ENDPOINTS, EC2_AGENT, SESSION_MANAGER, endpoints_for

Problem = tuple[tuple, str]

__all__ = ["BASELINE", "EC2_AGENT", "SESSION_MANAGER", "required_endpoints", "resolve_endpoints", "unreachable_apis"]


def required_endpoints(config: EnvironmentConfig) -> tuple[str, ...]:
    """Sorted endpoint suffixes (com.amazonaws.<region>.<suffix>) the environment needs: every
    task's secrets (services, jobs and their sidecars), exec, EC2 capacity, queue workers and,
    without NAT, the APIs the task roles grant (`access` and `permissions`)."""
    tasks = [*config.services.values(), *config.jobs.values()]
    refs = [ref for task in tasks for ref in task.secret_refs]
    return tuple(sorted(endpoints_for(
        secret_kinds={"secretsmanager" if ref.secret else "ssm" for ref in refs},
        exec_enabled=config.cluster.exec.enabled,
        ec2_capacity=bool(config.cluster.capacity.ec2),
        without_nat=config.network.nat == "none",
        queue_scaled=any(service.consumed_queue is not None for service in config.services.values()),
        called_services={prefix for task in tasks for prefix in granted_services(task)},
    )))


def granted_services(task: Task) -> set[str]:
    """The IAM service prefixes a task role grants: each `access` ARN's service and each
    `permissions` action's prefix (`sqs:SendMessage` -> sqs)."""
    access = task.access
    arns = [*access.read, *access.write, *access.list_, *access.tagging]
    services = {arn.split(":")[2] for arn in arns if arn.count(":") >= 5}
    return services | {action.split(":", 1)[0] for statement in task.permissions for action in statement.actions}


def unreachable_apis(config: EnvironmentConfig) -> Iterator[Problem]:
    """Warnings, not errors: without NAT a task role may grant an API the platform creates no
    endpoint for (EC2, IAM, Bedrock...): its calls would time out, unless the VPC reaches AWS
    another way this file cannot see (a proxy, a transit gateway). EFS mounts (Client*) are NFS
    to the mount targets, not API calls."""
    if config.network.nat != "none":
        return
    for kind, tasks in (("services", config.services), ("jobs", config.jobs)):
        for key, task in tasks.items():
            for path, service in _granted_with_paths(task):
                if service.lower() not in CALLED_SERVICE_ENDPOINTS:
                    yield (kind, key, *path), (
                        f"with nat: none, tasks reach AWS only through VPC endpoints, and the platform creates none "
                        f"for {service}: its API calls will time out. Use nat: single, or drop the grant"
                    )


def _granted_with_paths(task: Task) -> Iterator[tuple[tuple, str]]:
    """(YAML path under the task, IAM service prefix) for each grant, EFS mounts left out."""
    access = task.access
    for level, arns in (("read", access.read), ("write", access.write), ("list", access.list_), ("tagging", access.tagging)):
        for index, arn in enumerate(arns):
            if arn.count(":") >= 5:
                yield ("access", level, index), arn.split(":")[2]
    for s_index, statement in enumerate(task.permissions):
        for a_index, action in enumerate(statement.actions):
            service, name = action.split(":", 1)
            if not (service.lower() == "elasticfilesystem" and name.lower().startswith("client")):
                yield ("permissions", s_index, "actions", a_index), service


def resolve_endpoints(config: EnvironmentConfig) -> tuple[str, ...]:
    endpoints = config.network.endpoints
    return required_endpoints(config) if endpoints == "auto" else tuple(sorted(set(endpoints)))
