"""ECS services: network exposure, private subnets, safe rollouts, on-demand capacity, health grace."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .ec2 import SUBNET, internet_route_tables
from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, items, number, truthy

SERVICE = "aws:ecs/service:Service"
# An EXTERNAL-controller service's tasks run in task sets, which carry their own network.
TASK_SET = "aws:ecs/taskSet:TaskSet"
CLUSTER = "aws:ecs/cluster:Cluster"
CLUSTER_CAPACITY_PROVIDERS = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
FARGATE, FARGATE_SPOT = "FARGATE", "FARGATE_SPOT"


def no_public_ip(props: Mapping, _settings: Settings) -> Iterable[str]:
    if truthy(get(props, "networkConfiguration", "assignPublicIp", default=False)):
        yield "assignPublicIp is true: every task gets an internet-reachable address"


def private_subnets(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    # The subnets are found like every link (property dependencies first, so a real preview,
    # where subnet ids are unknown, still finds them); a subnet that is not in this stack
    # (a shared VPC) cannot be judged here. Unknown inline routes raise Unknown: the rule
    # then runs again on `pulumi up`.
    for subnet in stack.linked(subject, "networkConfiguration", (SUBNET,), by=("id",)):
        for table in internet_route_tables(subnet, stack):
            yield f"its subnet {subnet.name} is public: route table {table.name} routes to the internet gateway"


def _rolling(props: Mapping) -> bool:
    # Circuit breaker and healthy-percent apply to rolling deployments of the ECS controller
    # only: not to CODE_DEPLOY/EXTERNAL, nor to ECS's native BLUE_GREEN, CANARY and LINEAR
    # strategies (which roll back by shifting traffic back; ECS refuses the circuit breaker there).
    return get(props, "deploymentController", "type", default="ECS") == "ECS" and get(
        props, "deploymentConfiguration", "strategy", default="ROLLING"
    ) == "ROLLING"


def _rolling_replica(props: Mapping) -> bool:
    """A rolling deployment of a REPLICA service: a daemon runs one task per instance and
    ignores the healthy and maximum percents."""
    return _rolling(props) and get(props, "schedulingStrategy", default="REPLICA") != "DAEMON"


def _min_healthy_percent(props: Mapping) -> float:
    # Unset means AWS's default for REPLICA services: 100.
    return number(get(props, "deploymentMinimumHealthyPercent"), 100)


def circuit_breaker(props: Mapping, _settings: Settings) -> Iterable[str]:
    if not _rolling(props):
        return
    breaker = get(props, "deploymentCircuitBreaker", default={})
    if not (truthy(breaker.get("enable")) and truthy(breaker.get("rollback"))):
        yield "the deployment circuit breaker with rollback is off, so a failing rollout retries forever"


def min_healthy_percent(props: Mapping, settings: Settings) -> Iterable[str]:
    # Every controller honours the minimum: rolling deploys, CODE_DEPLOY while instances drain,
    # EXTERNAL as the lower limit of its task sets.
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
    if get(props, "schedulingStrategy", default="REPLICA") == "DAEMON":
        return
    percent = _min_healthy_percent(props)
    # Behind the load balancer every task serves users, so a rollout keeps them all; a worker
    # or internal server may trade half its capacity during a rollout for cheaper deploys (the
    # spec's own production worker runs 50/200), never more.
    exposed = bool(get(props, "loadBalancers", default=[]))
    minimum = settings.option("minHealthyPercent" if exposed else "unexposedMinHealthyPercent")
    if percent < minimum:
        behind = "behind the load balancer" if exposed else "without a load balancer"
        yield f"deploymentMinimumHealthyPercent is {percent:g}, below {minimum:g} for a service {behind}: a rollout drops serving tasks"


def max_percent(props: Mapping, _settings: Settings) -> Iterable[str]:
    if not _rolling_replica(props):
        return
    minimum = _min_healthy_percent(props)
    maximum = number(get(props, "deploymentMaximumPercent"), 200)  # unset means AWS's default: 200
    # A rolling step either starts a task above the desired count (floor(count * max / 100),
    # ECS rounds down) or stops one below it (ceil(count * min / 100), ECS rounds up). With
    # one task, the least the count goes down to (autoscaling, a quiet environment), only
    # max >= 200 or min == 0 allow a step; either one allows a step at every count. "max > min"
    # is not enough: at one task, 100/150 and 50/100 both leave the rollout stuck.
    if maximum < 200 and minimum > 0:
        yield (
            f"deploymentMaximumPercent is {maximum:g} with deploymentMinimumHealthyPercent {minimum:g}: "
            "at one task ECS can neither start a new task first nor stop the old one, so the rollout never progresses"
        )


def on_demand_share(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    props = stack.props(subject)
    if get(props, "launchType") in (FARGATE, "EC2"):
        return  # a launch type is always on-demand
    strategy = items(props, "capacityProviderStrategies") or _cluster_default_strategy(subject, stack)
    if not strategy:
        return  # no strategy at all is reported by aws-ecs-cluster-default-capacity-strategy
    if not any(_on_demand_entry(entry, strategy, stack) for entry in strategy):
        # FARGATE_SPOT never falls back to FARGATE: when Spot capacity is short the service
        # can run zero tasks.
        providers = ", ".join(str(get(e, "capacityProvider")) for e in strategy)
        yield f"the capacity strategy ({providers}) has no on-demand share"


def _cluster_default_strategy(subject, stack: Stack) -> list:
    """The default strategy of the service's cluster (the one cluster when links are unknown)."""
    settings = [
        ccp
        for cluster in stack.linked(subject, "cluster", (CLUSTER,), by=("arn", "name", "id"))
        for ccp in stack.referrers(cluster, "clusterName", (CLUSTER_CAPACITY_PROVIDERS,))
    ] or stack.of(CLUSTER_CAPACITY_PROVIDERS)
    return items(stack.props(settings[0]), "defaultCapacityProviderStrategies") if len(settings) == 1 else []


def _on_demand_entry(entry: Mapping, strategy: list, stack: Stack) -> bool:
    provider = get(entry, "capacityProvider")
    if provider == FARGATE_SPOT:
        return False
    if provider == FARGATE:
        # A base guarantees on-demand tasks; beside Spot, a weight alone can round to zero
        # tasks for small counts. Without Spot in the strategy, every task is on FARGATE.
        spot_beside = any(get(e, "capacityProvider") == FARGATE_SPOT for e in strategy)
        return number(get(entry, "base")) >= 1 or (not spot_beside and number(get(entry, "weight"), 1) > 0)
    return _ec2_provider_on_demand(provider, stack)


def _ec2_provider_on_demand(provider_name: str, stack: Stack) -> bool:
    for provider in stack.of(CAPACITY_PROVIDER):
        if get(stack.props(provider), "name", default=provider.name) != provider_name:
            continue
        for group in stack.linked(provider, "autoScalingGroupProvider", (AUTOSCALING_GROUP,), by=("arn",)):
            distribution = get(stack.props(group), "mixedInstancesPolicy", "instancesDistribution")
            if distribution is None:
                return True  # without a mixed instances policy every instance is on-demand
            # AWS defaults: base 0, 100 % on-demand above base.
            if number(distribution.get("onDemandBaseCapacity")) >= 1 or number(
                distribution.get("onDemandPercentageAboveBaseCapacity"), 100
            ) > 0:
                return True
    return False


def grace_period(props: Mapping, _settings: Settings) -> Iterable[str]:
    if items(props, "loadBalancers") and not number(get(props, "healthCheckGracePeriodSeconds")):
        yield "healthCheckGracePeriodSeconds is unset: the ALB can kill tasks that are still starting"


RULES = [
    ResourceRule(
        name="aws-ecs-service-no-public-ip",
        description="ECS services and task sets (any deployment controller) do not assign public IPs to tasks.",
        remediation="run tasks in private subnets with assignPublicIp: false (egress via NAT or VPC endpoints)",
        category="security",
        types=(SERVICE, TASK_SET),
        check=no_public_ip,
    ),
    StackRule(
        name="aws-ecs-service-private-subnets",
        description="ECS services run in private subnets: no route table associated with them routes to an internet gateway.",
        remediation="put networkConfiguration.subnets in the private subnets (their 0.0.0.0/0 via a NAT gateway, or none)",
        category="security",
        types=(SERVICE, TASK_SET),
        check=private_subnets,
    ),
    ResourceRule(
        name="aws-ecs-service-circuit-breaker",
        description="Rolling deployments use the circuit breaker with rollback.",
        remediation="set deploymentCircuitBreaker: {enable: true, rollback: true}",
        category="reliability",
        types=(SERVICE,),
        check=circuit_breaker,
    ),
    ResourceRule(
        name="aws-ecs-service-min-healthy-percent",
        description="Production deploys keep 100% of the tasks behind the load balancer healthy, and at least 50% of others.",
        remediation="set services.<key>.deployment.min_healthy_percent: 100 (50 for a service without expose; max_percent: 200)",
        category="reliability",
        types=(SERVICE,),
        check=min_healthy_percent,
        production_only=True,
        options={"minHealthyPercent": 100, "unexposedMinHealthyPercent": 50},
        option_schema={"minHealthyPercent": {"type": "integer", "minimum": 0, "maximum": 100},
                       "unexposedMinHealthyPercent": {"type": "integer", "minimum": 0, "maximum": 100}},
    ),
    ResourceRule(
        name="aws-ecs-service-deployment-max-percent",
        description=(
            "Rolling deployments can always progress: maximumPercent is at least 200 (room to start a new task "
            "before stopping an old one at any task count), unless minimumHealthyPercent is 0."
        ),
        remediation="set services.<key>.deployment.max_percent: 200 (the default) with min_healthy_percent: 100",
        category="reliability",
        types=(SERVICE,),
        check=max_percent,
    ),
    StackRule(
        name="aws-ecs-service-on-demand-share",
        description="Production services keep an on-demand share (a FARGATE base or on-demand EC2), because Spot has no fallback.",
        remediation="add {provider: fargate, base: 1} to the strategy, or use an EC2 provider with on_demand_base >= 1",
        category="reliability",
        types=(SERVICE,),
        check=on_demand_share,
        production_only=True,
    ),
    ResourceRule(
        name="aws-ecs-service-health-check-grace-period",
        description="Services behind a load balancer have a health check grace period.",
        remediation="set services.<key>.health_check.grace_period (seconds the task needs to start)",
        category="reliability",
        types=(SERVICE,),
        check=grace_period,
    ),
]
