"""`network.endpoints: auto`: the VPC endpoints an environment needs, derived from what it uses.

A pure function of the validated model, shared by the network component, the config checks
(an explicit list with `nat: none` must contain these) and the policy pack's configuration.
The rule itself is policies/endpoint_needs.py, which the pack applies to the resources.
"""

from __future__ import annotations

from configs.model import EnvironmentConfig, Task
from policies.endpoint_needs import BASELINE, EC2_AGENT, SESSION_MANAGER, endpoints_for

__all__ = ["BASELINE", "EC2_AGENT", "SESSION_MANAGER", "required_endpoints", "resolve_endpoints"]


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


def resolve_endpoints(config: EnvironmentConfig) -> tuple[str, ...]:
    endpoints = config.network.endpoints
    return required_endpoints(config) if endpoints == "auto" else tuple(sorted(set(endpoints)))
