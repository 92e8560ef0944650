"""ECS Service Connect: the proxy ECS adds to a service's tasks logs somewhere the platform keeps.

The proxy is not in the task definition, so the task definition's log rules never see it; its
only log setting is the service's `serviceConnectConfiguration.logConfiguration`. Without one,
ECS keeps none of its logs (connection errors, upstream resets), exactly the ones needed when a
call between services fails."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .ecs_service import SERVICE
from .framework import ResourceRule, Settings
from .helpers import get, has, truthy


def proxy_logs(props: Mapping, _settings: Settings) -> Iterable[str]:
    configuration = get(props, "serviceConnectConfiguration", default={})
    if not isinstance(configuration, Mapping) or not truthy(configuration.get("enabled")):
        return
    logs = get(configuration, "logConfiguration", default=None)
    if not isinstance(logs, Mapping):
        yield "Service Connect is enabled without a logConfiguration: its proxy's logs are kept nowhere"
        return
    driver = get(logs, "logDriver", default=None)
    if driver != "awslogs":
        yield f"the Service Connect proxy logs with {driver!r}, not awslogs to the service's log group"
        return
    options = get(logs, "options", default={})
    if not has(options, "awslogs-group"):
        yield "the Service Connect proxy's awslogs configuration names no awslogs-group"


RULES = [
    ResourceRule(
        name="aws-ecs-service-connect-logs",
        description="Services with Service Connect log their proxy with awslogs to a named log group.",
        remediation="set serviceConnectConfiguration.logConfiguration {logDriver: awslogs, options: {awslogs-group: "
        "<the service's log group>, awslogs-region, awslogs-stream-prefix}} (the platform does this for cluster.service_connect)",
        category="reliability",
        types=(SERVICE,),
        check=proxy_logs,
    ),
]
