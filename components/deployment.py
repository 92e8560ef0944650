"""How a service rolls out: the ECS service arguments of its deployment strategy.

- rolling (default): ECS replaces tasks in batches (min/max percent) and the circuit breaker
  stops and rolls back a deployment whose tasks do not become healthy. The circuit breaker
  exists for rolling deployments only.
- blue_green, canary, linear: ECS native deployments. ECS starts the new revision in the
  alternate target group, points the test listener rule at it, then shifts the production
  rule's weights (all at once, a canary share then the rest, or in equal steps), keeps both
  revisions for the bake time and retires the old one; any failure, or an alarm with
  `rollback_alarms`, sends traffic back to the old revision at once.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html

`rollback_alarms` wires the service's CloudWatch alarms into the deployment (any strategy):
ECS fails the deployment when one fires during it and rolls back.

Pure functions of the model and of resolved ARNs; components/service.py passes the result to
`aws.ecs.Service`. pulumi-aws 7.x types the bake times as strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws

from configs.model import Deployment

STRATEGIES = {"rolling": "ROLLING", "blue_green": "BLUE_GREEN", "canary": "CANARY", "linear": "LINEAR"}


@dataclass(frozen=True)
class NativeLoadBalancing:
    """What a native deployment shifts between (load_balancer.py creates these)."""

    alternate_target_group_arn: pulumi.Input[str]
    production_listener_rule_arn: pulumi.Input[str]
    test_listener_rule_arn: pulumi.Input[str]
    infrastructure_role_arn: pulumi.Input[str]


def shifting_minutes(deployment: Deployment) -> int:
    """Minutes a native deployment spends shifting traffic and baking, at most (bake times
    included); 0 for rolling deployments."""
    if not deployment.native:
        return 0
    bake = deployment.resolved_bake_minutes
    if deployment.strategy == "canary":
        return deployment.resolved_canary.bake_minutes + bake
    if deployment.strategy == "linear":
        linear = deployment.resolved_linear
        # Steps of `percent` until 100; no wait after the last one.
        steps = math.ceil(100 / float(linear.percent))
        return (steps - 1) * linear.interval_minutes + bake
    return bake


def rollout_minutes(deployment: Deployment) -> int:
    """How long `pulumi up` may wait for a rollout: the steady-state timeout plus the time a
    native deployment spends shifting and baking (up to 1440 minutes of bake time)."""
    return deployment.timeout_minutes + shifting_minutes(deployment)


def deployment_arguments(
    deployment: Deployment,
    *,
    target_group_arn: Optional[pulumi.Input[str]],
    container_name: str,
    container_port: Optional[int],
    native: Optional[NativeLoadBalancing],
    rollback_alarm_names: Sequence[str],
) -> dict[str, Any]:
    """`aws.ecs.Service` keyword arguments: deployment configuration, circuit breaker (rolling),
    alarms and load balancers."""
    if deployment.native and native is None:
        # configs/checks_delivery.py refuses this at load; guards direct use of the component.
        raise ValueError(f"a {deployment.strategy} deployment needs the load balancer's alternate target group and rules")
    arguments: dict[str, Any] = {
        "deployment_minimum_healthy_percent": deployment.min_healthy_percent,
        "deployment_maximum_percent": deployment.max_percent,
        "deployment_configuration": _configuration(deployment),
        "deployment_circuit_breaker": (
            aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=deployment.circuit_breaker, rollback=deployment.circuit_breaker)
            if not deployment.native
            else None
        ),
        "alarms": (
            aws.ecs.ServiceAlarmsArgs(alarm_names=list(rollback_alarm_names), enable=True, rollback=True)
            if deployment.rollback_alarms and rollback_alarm_names
            else None
        ),
        "load_balancers": None,
    }
    if target_group_arn is not None:
        arguments["load_balancers"] = [
            aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=target_group_arn,
                container_name=container_name,
                container_port=container_port,  # type: ignore[arg-type]
                advanced_configuration=(
                    aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
                        alternate_target_group_arn=native.alternate_target_group_arn,
                        production_listener_rule=native.production_listener_rule_arn,
                        test_listener_rule=native.test_listener_rule_arn,
                        role_arn=native.infrastructure_role_arn,
                    )
                    if deployment.native and native is not None
                    else None
                ),
            )
        ]
    return arguments


def _configuration(deployment: Deployment) -> aws.ecs.ServiceDeploymentConfigurationArgs:
    if not deployment.native:
        return aws.ecs.ServiceDeploymentConfigurationArgs(strategy="ROLLING")
    canary = linear = None
    if deployment.strategy == "canary":
        c = deployment.resolved_canary
        canary = aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
            canary_percent=float(c.percent), canary_bake_time_in_minutes=str(c.bake_minutes)
        )
    if deployment.strategy == "linear":
        step = deployment.resolved_linear
        linear = aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
            step_percent=float(step.percent), step_bake_time_in_minutes=str(step.interval_minutes)
        )
    return aws.ecs.ServiceDeploymentConfigurationArgs(
        strategy=STRATEGIES[deployment.strategy],
        bake_time_in_minutes=str(deployment.resolved_bake_minutes),
        canary_configuration=canary,
        linear_configuration=linear,
    )
