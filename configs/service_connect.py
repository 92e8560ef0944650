"""Service Connect (`cluster.service_connect`): who is a server, who is a client, and what the
loader refuses or warns about. Components and the review read the roles from here, so the
plan, the diagram and the resources agree.

- A **server** is a service with a `port`: ECS registers it in the namespace and every client
  reaches it at `<service>:<port>` (its key is the discovery name and the client alias).
- A **client** is a service with `connects_to: {service: ...}`: its tasks get the Service
  Connect proxy, which resolves the servers' names.
- **Jobs** run with RunTask, and "only the tasks that Amazon ECS services create are supported
  with Service Connect" (ServiceConnectConfiguration, ECS API reference): a job gets no proxy,
  and a Cloud Map HTTP namespace has no DNS zone, so `<service>:<port>` does not resolve in a
  job. Its `connects_to` still opens the security group rules both ways; the loader warns.
"""

from __future__ import annotations

import datetime
from typing import Iterator

from configs.model import EnvironmentConfig, Task

Problem = tuple[tuple, str]

# The Service Connect proxy is a container ECS adds to each task; it takes its CPU and memory
# from what the task's containers leave unallocated. AWS: "We recommend adding 256 CPU units and
# at least 64 MiB of memory to your task CPU and memory for the Service Connect proxy container",
# and "task definitions that set container memory limits for all containers instead of setting
# the task memory limit aren't supported": the task memory must exceed the sum of the container
# limits. (Amazon ECS Developer Guide, "Service Connect proxy" and "Service Connect
# considerations": https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html,
# archived at github.com/awsdocs/amazon-ecs-developer-guide doc_source/service-connect.md.)
#
# Decision: memory is a refusal, CPU a warning. A task with sidecars gives every container a
# hard memory limit, so the main container's limit leaves PROXY_MEMORY_MIB for the proxy, and
# a task where that leaves the main container under its minimum is refused (the proxy would be
# killed, or ECS would refuse the deployment). CPU units below the limit are shares, not a
# ceiling: a task short of AWS's recommended 256 units still runs, only slower under load, so
# the loader warns.
PROXY_CPU_UNITS = 256
PROXY_MEMORY_MIB = 64
# The application protocol the servers declare: AWS collects HTTP metrics (5xx, latency) for it,
# and the spec's promise is http://<service>:<port>.
APP_PROTOCOL = "http"
# The proxy's own logs go to the task's log group (the service's /ecs/<env>/<key>) under this prefix.
PROXY_LOG_STREAM_PREFIX = "service-connect"


def enabled(config: EnvironmentConfig) -> bool:
    return config.cluster.service_connect is not None


def is_server(config: EnvironmentConfig, key: str) -> bool:
    """A service with a port, in an environment with Service Connect."""
    return enabled(config) and key in config.services and config.services[key].port is not None


def is_client(config: EnvironmentConfig, key: str) -> bool:
    """A service that connects to another service of the environment, with Service Connect on."""
    return (
        enabled(config)
        and key in config.services
        and any(connection.service is not None for connection in config.services[key].connects_to)
    )


def has_proxy(config: EnvironmentConfig, key: str) -> bool:
    """ECS adds the proxy to this service's tasks (a server, a client or both)."""
    return is_server(config, key) or is_client(config, key)


def endpoint(key: str, port: int) -> str:
    """What clients call: the service key (the client alias) and its port."""
    return f"{key}:{port}"


def main_memory_left(task: Task) -> int:
    """The main container's hard limit in a task with sidecars and the proxy."""
    return task.main_memory - PROXY_MEMORY_MIB


# ---- the loader's checks and warnings --------------------------------------------------------


def check_proxy_room(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """A task with sidecars and the proxy must leave the main container its minimum memory
    after the proxy's share (the sidecar check in configs/workload_checks.py reports the case
    without the proxy)."""
    from configs.workload_checks import MAIN_CONTAINER_MIN_MEMORY

    for key, service in config.services.items():
        if not (service.sidecars and has_proxy(config, key)):
            continue
        left = main_memory_left(service)
        if service.main_memory >= MAIN_CONTAINER_MIN_MEMORY > left:
            yield ("services", key, "memory"), (
                f"the sidecars reserve {service.memory - service.main_memory} of the task's {service.memory} MiB and "
                f"the Service Connect proxy {PROXY_MEMORY_MIB}, leaving the main container {left}; it needs at least "
                f"{MAIN_CONTAINER_MIN_MEMORY} MiB: raise memory to {service.memory + MAIN_CONTAINER_MIN_MEMORY - left} "
                "or lower the sidecars' memory"
            )


def warnings(config: EnvironmentConfig) -> Iterator[Problem]:
    """Accepted, but worth saying: jobs that cannot use the names, tasks short of the proxy's
    recommended CPU."""
    if not enabled(config):
        return
    namespace = config.cluster.service_connect.namespace  # type: ignore[union-attr]
    for key, job in config.jobs.items():
        for index, connection in enumerate(job.connects_to):
            if connection.service is None:
                continue
            yield ("jobs", key, "connects_to", index), (
                f"a job runs with RunTask, which Service Connect does not support: "
                f"{endpoint(connection.service, connection.port)} does not resolve in this job's task (the "
                f"{namespace} namespace is an HTTP namespace, with no DNS). The security group rules are open; "
                f"reach {connection.service} through the load balancer (expose) or an address the job looks up"
            )
    for key, service in config.services.items():
        if not has_proxy(config, key):
            continue
        unshared = service.cpu - sum(sidecar.cpu for sidecar in service.sidecars.values())
        if unshared < 2 * PROXY_CPU_UNITS:
            yield ("services", key, "cpu"), (
                f"{unshared} CPU units are left for the main container and the Service Connect proxy; AWS recommends "
                f"adding {PROXY_CPU_UNITS} units to the task for the proxy: consider cpu: {service.cpu + PROXY_CPU_UNITS}"
            )
