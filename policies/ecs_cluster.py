"""ECS clusters and capacity providers: insights, exec audit, default strategy, managed scaling."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .ecs_service import CAPACITY_PROVIDER, CLUSTER, CLUSTER_CAPACITY_PROVIDERS, SERVICE
from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, items, truthy


def container_insights(props: Mapping, _settings: Settings) -> Iterable[str]:
    values = [get(s, "value") for s in items(props, "settings") if get(s, "name") == "containerInsights"]
    if not values or values[0] not in ("enabled", "enhanced"):
        yield f"containerInsights is {values[0] if values else 'unset (disabled)'}"


def exec_audited(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    services = [s for s in stack.referrers(subject, "cluster", (SERVICE,)) if truthy(get(stack.props(s), "enableExecuteCommand"))]
    if not services:
        return
    config = get(stack.props(subject), "configuration", "executeCommandConfiguration", default={})
    names = ", ".join(s.name for s in services)
    if not config.get("kmsKeyId"):
        yield f"ECS Exec is on for {names} but sessions are not encrypted with a KMS key"
    logging = config.get("logging", "DEFAULT")
    log = config.get("logConfiguration") or {}
    # DEFAULT logs only where the task's awslogs config points, unencrypted; NONE logs nothing.
    if logging != "OVERRIDE":
        yield f"ECS Exec is on for {names} but session logging is {logging}, not OVERRIDE"
    elif not (
        (log.get("cloudWatchLogGroupName") and truthy(log.get("cloudWatchEncryptionEnabled")))
        or (log.get("s3BucketName") and truthy(log.get("s3EncryptionEnabled")))
    ):
        yield f"ECS Exec is on for {names} but session logs go to no encrypted log group or bucket"


def default_strategy(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    settings = stack.referrers(subject, "clusterName", (CLUSTER_CAPACITY_PROVIDERS,))
    if not any(items(stack.props(s), "defaultCapacityProviderStrategies") for s in settings):
        yield "has no default capacity provider strategy, so services without one fall back to launch types"


def managed_scaling(props: Mapping, _settings: Settings) -> Iterable[str]:
    provider = get(props, "autoScalingGroupProvider", default={})
    if (provider.get("managedScaling") or {}).get("status") != "ENABLED":
        yield "managed scaling is off: the group does not grow with pending tasks"
    if provider.get("managedTerminationProtection") != "ENABLED":
        # Without it, scale-in can terminate instances that still run tasks.
        yield "managed termination protection is off"


RULES = [
    ResourceRule(
        name="aws-ecs-cluster-container-insights",
        description="Container Insights is on for every cluster.",
        remediation="set cluster.container_insights: enabled or enhanced",
        category="reliability",
        types=(CLUSTER,),
        check=container_insights,
    ),
    StackRule(
        name="aws-ecs-cluster-exec-audited",
        description="When ECS Exec is on, its sessions are KMS-encrypted and logged to an encrypted destination.",
        remediation="set executeCommandConfiguration {kmsKeyId, logging: OVERRIDE, logConfiguration with encryption}",
        category="security",
        types=(CLUSTER,),
        check=exec_audited,
    ),
    StackRule(
        name="aws-ecs-cluster-default-capacity-strategy",
        description="Every cluster has a default capacity provider strategy.",
        remediation="set cluster.default_strategy (an aws.ecs.ClusterCapacityProviders with defaultCapacityProviderStrategies)",
        category="reliability",
        types=(CLUSTER,),
        check=default_strategy,
    ),
    ResourceRule(
        name="aws-ecs-capacity-provider-managed-scaling",
        description="EC2 capacity providers use managed scaling and managed termination protection.",
        remediation="set managedScaling.status: ENABLED and managedTerminationProtection: ENABLED (ASG protectFromScaleIn: true)",
        category="reliability",
        types=(CAPACITY_PROVIDER,),
        check=managed_scaling,
    ),
]
