"""A service's Application Auto Scaling: its scalable target, target tracking on CPU, memory,
ALB requests and the SQS backlog per task, the step policy that wakes a queue worker from zero,
and scheduled capacity. Children of the Service component (`parent`), named from its keys:

    <name>-scaling               aws:appautoscaling/target:Target
    <name>-scale-<metric>        aws:appautoscaling/policy:Policy      cpu, memory, requests, queue
    <name>-scale-queue-wake      aws:appautoscaling/policy:Policy      queue, can idle at 0: from 0 tasks to 1
    <name>-queue-wake            aws:cloudwatch/metricAlarm:MetricAlarm  invokes it (a scaling alarm: no one is paged)
    <name>-schedule-<key>        aws:appautoscaling/scheduledAction:ScheduledAction  per entry

Several policies on one target: Application Auto Scaling scales out when any target tracking
policy asks for more tasks and scales in only when all of them agree, so `queue` beside `cpu`
keeps the tasks the CPU needs, and a queue worker with `cpu` goes to zero only when the CPU
policy also lets it.
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from configs.arns import parse_arn
from configs.model import Autoscaling, ScheduledCapacity
from configs.schedules import schedule_key
from components.naming import bounded, child, family

POLICY = "aws:appautoscaling/policy:Policy"  # its name limit: components/naming.py
# The ALB's request metric needs the target group; CPU and memory are the service's averages.
SCALING_METRICS: dict[str, str] = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "requests": "ALBRequestCountPerTarget",
}
# Scale out fast, scale in slowly: a burst should not have to wait, and tasks started by a burst
# should not be stopped by the next quiet minute.
SCALE_OUT_COOLDOWN = 60
SCALE_IN_COOLDOWN = 300

# Backlog per task, AWS's documented metric math for an ECS service: the queue's visible
# messages (Sum) divided by the service's RUNNING tasks (Container Insights, Average).
# https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html
# ("Example: Amazon SQS queue backlog per task")
BACKLOG_EXPRESSION = "m1 / m2"
VISIBLE_MESSAGES = ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
RUNNING_TASKS = ("ECS/ContainerInsights", "RunningTaskCount")
# Target tracking cannot leave zero: with no task, m1 / m2 has no data (ECS publishes no metric
# for a service without running tasks) and its proportional step from 0 tasks is 0. This alarm
# fires when messages wait and no task runs, and its step policy adds one task; from there the
# backlog policy takes over. FILL(m2, 0) turns "no RunningTaskCount" into 0. The adjustment is
# +1 (ChangeInCapacity), never an exact count: a late alarm on a service already scaled out adds
# one task (target tracking removes it) instead of cutting the service back to 1.
WAKE_EXPRESSION = "IF(m1 > 0 AND FILL(m2, 0) == 0, 1, 0)"
WAKE_PERIOD = 60


def scale_service(
    name: str,
    *,
    scaling: Autoscaling,
    environment: str,
    key: str,
    cluster_name: pulumi.Input[str],
    service_name: pulumi.Input[str],
    request_count_label: Optional[pulumi.Input[str]],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.appautoscaling.Target:
    """Register the target and every policy and scheduled action `scaling` asks for."""
    opts = pulumi.ResourceOptions(parent=parent)
    target = aws.appautoscaling.Target(
        child(name, "scaling"),
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster_name, "/", service_name),
        min_capacity=scaling.min,
        max_capacity=scaling.max,
        tags=tags,
        # With a schedule, the scheduled actions own the target's min and max between `pulumi
        # up` runs (as autoscaling owns the desired count): an update in the evening must not
        # undo the evening's scale-down. autoscaling.min/max are the bounds it is created with.
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["minCapacity", "maxCapacity"] if scaling.schedule else None),
    )
    policy_name = family(environment, key)
    targets: dict[str, tuple[int, Optional[pulumi.Input[str]]]] = {}
    if scaling.cpu is not None:
        targets["cpu"] = (scaling.cpu, None)
    if scaling.memory is not None:
        targets["memory"] = (scaling.memory, None)
    if scaling.requests_per_target is not None:
        targets["requests"] = (scaling.requests_per_target, request_count_label)
    for metric, (value, label) in targets.items():
        _target_tracking(
            child(name, "scale", metric), f"{policy_name}-{metric}", target, float(value),
            predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type=SCALING_METRICS[metric],
                resource_label=label,
            ),
            opts=opts,
        )
    if scaling.queue is not None:
        dimensions = _Dimensions(parse_arn(scaling.queue.arn).resource, cluster_name, service_name)
        _queue_policies(name, policy_name, target, scaling, dimensions, tags, opts)
    for entry in scaling.schedule:
        _scheduled_action(name, policy_name, target, entry, scaling.timezone, opts)
    return target


class _Dimensions:
    def __init__(self, queue_name: str, cluster_name: pulumi.Input[str], service_name: pulumi.Input[str]):
        self.queue = {"QueueName": queue_name}
        self.service = {"ClusterName": cluster_name, "ServiceName": service_name}


def _target_tracking(resource_name: str, policy_name: str, target: aws.appautoscaling.Target, value: float,
                     *, opts: pulumi.ResourceOptions, **metric: Any) -> aws.appautoscaling.Policy:
    return aws.appautoscaling.Policy(
        resource_name,
        name=bounded(POLICY, policy_name),
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=value,
            scale_out_cooldown=SCALE_OUT_COOLDOWN,
            scale_in_cooldown=SCALE_IN_COOLDOWN,
            **metric,
        ),
        opts=opts,
    )


def idles_at_zero(scaling: Autoscaling) -> bool:
    """Whether the service can sit at zero tasks while it may run some: autoscaling.min 0, or a
    schedule entry with min 0 and a max above it (min 0 with max 0 is stopped on purpose)."""
    return scaling.min == 0 or any(entry.min == 0 < entry.max for entry in scaling.schedule)


def _queue_policies(name: str, policy_name: str, target: aws.appautoscaling.Target, scaling: Autoscaling,
                    dimensions: _Dimensions, tags: dict[str, str], opts: pulumi.ResourceOptions) -> None:
    """Target tracking on the backlog per task, and, when the service can idle at zero, the
    wake-up from zero tasks (without it, no alarm that could never act)."""
    spec, queue = aws.appautoscaling, scaling.queue
    assert queue is not None
    _target_tracking(
        child(name, "scale", "queue"), f"{policy_name}-queue", target, float(queue.backlog_per_task),
        customized_metric_specification=spec.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
            metrics=[
                _tracked_metric("m1", VISIBLE_MESSAGES, dimensions.queue, "Sum"),
                _tracked_metric("m2", RUNNING_TASKS, dimensions.service, "Average"),
                spec.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgs(
                    id="e1", expression=BACKLOG_EXPRESSION, label="visible messages per running task", return_data=True,
                ),
            ],
        ),
        opts=opts,
    )
    if idles_at_zero(scaling):
        _wake_from_zero(name, policy_name, target, dimensions, tags, opts)


def _wake_from_zero(name: str, policy_name: str, target: aws.appautoscaling.Target, dimensions: _Dimensions,
                    tags: dict[str, str], opts: pulumi.ResourceOptions) -> None:
    spec = aws.appautoscaling
    wake = aws.appautoscaling.Policy(
        child(name, "scale", "queue-wake"),
        name=bounded(POLICY, f"{policy_name}-queue-wake"),
        policy_type="StepScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        step_scaling_policy_configuration=spec.PolicyStepScalingPolicyConfigurationArgs(
            adjustment_type="ChangeInCapacity",
            cooldown=SCALE_OUT_COOLDOWN,
            metric_aggregation_type="Maximum",
            step_adjustments=[spec.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs(
                metric_interval_lower_bound="0", scaling_adjustment=1,
            )],
        ),
        opts=opts,
    )
    aws.cloudwatch.MetricAlarm(
        child(name, "queue-wake"),
        name=bounded("aws:cloudwatch/metricAlarm:MetricAlarm", f"{policy_name}-queue-wake"),
        alarm_description=f"Messages wait in {dimensions.queue['QueueName']} and no task of the service runs: start one",
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        evaluation_periods=1,
        # No data (no messages reported yet): nothing to wake up for.
        treat_missing_data="notBreaching",
        metric_queries=[
            _alarm_metric("m1", VISIBLE_MESSAGES, dimensions.queue, "Maximum"),
            _alarm_metric("m2", RUNNING_TASKS, dimensions.service, "Average"),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="e1", expression=WAKE_EXPRESSION, label="messages wait and no task runs", return_data=True,
            ),
        ],
        alarm_actions=[wake.arn],
        tags=tags,
        opts=opts,
    )


def _tracked_metric(metric_id: str, metric: tuple[str, str], dimensions: dict, stat: str):
    spec = aws.appautoscaling
    namespace, metric_name = metric
    return spec.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgs(
        id=metric_id,
        return_data=False,
        metric_stat=spec.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatArgs(
            stat=stat,
            metric=spec.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs(
                namespace=namespace,
                metric_name=metric_name,
                dimensions=[
                    spec.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs(
                        name=dimension, value=value,
                    )
                    for dimension, value in dimensions.items()
                ],
            ),
        ),
    )


def _alarm_metric(metric_id: str, metric: tuple[str, str], dimensions: dict, stat: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    namespace, metric_name = metric
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=metric_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace, metric_name=metric_name, dimensions=dimensions, stat=stat, period=WAKE_PERIOD,
        ),
    )


def _scheduled_action(name: str, policy_name: str, target: aws.appautoscaling.Target, entry: ScheduledCapacity,
                      timezone: str, opts: pulumi.ResourceOptions) -> aws.appautoscaling.ScheduledAction:
    """One `schedule` entry, named from its expression (configs/schedules.py), not its position."""
    key = schedule_key(entry.cron)
    return aws.appautoscaling.ScheduledAction(
        child(name, "schedule", key),
        name=bounded("aws:appautoscaling/scheduledAction:ScheduledAction", f"{policy_name}-{key}"),
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        schedule=entry.cron,
        timezone=timezone,
        scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
            min_capacity=entry.min, max_capacity=entry.max,
        ),
        opts=opts,
    )
