"""CloudWatch alarms of one service, and the environment's notification topic.

Every alarm notifies the environment's topic (`alarms.notify`, or one the stack creates) when it
fires and when it recovers. Thresholds come resolved from the model (`alarms_for`: the
production tier's 5xx and running-below-desired defaults included). Each alarm is built from
metric queries, so alarms that need arithmetic (a 5xx percentage, desired minus running) and
plain ones look the same to the policy pack.

Load balancer metrics are per target group. A service with a native (blue/green, canary,
linear) deployment serves from either of its two target groups, so its 5xx and latency alarms
add both up: production traffic is watched whichever group currently holds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.arns import POLICY_VERSION, account_root_arn
from components.facts import PlatformFacts
from components.naming import bounded, child, family, type_token

PERIOD_SECONDS = 60
# Five one-minute periods, three of them breaching: a blip does not page, a trend does.
EVALUATION_PERIODS = 5
DATAPOINTS_TO_ALARM = 3
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"


@dataclass(frozen=True)
class AlarmSpec:
    metric: str  # the configs.model.ServiceAlarms field
    description: str
    threshold: float
    comparison: str
    queries: list[dict[str, Any]]  # MetricAlarmMetricQueryArgs as keyword dicts; Inputs allowed


@dataclass(frozen=True)
class ServiceAlarmsArgs:
    key: str
    environment: str
    thresholds: dict[str, object]  # EnvironmentConfig.alarms_for(key)
    cluster_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    tags: dict[str, str]
    load_balancer_arn_suffix: Optional[pulumi.Input[str]] = None
    # The service's target groups (two with a native deployment), by arn suffix.
    target_group_arn_suffixes: Sequence[pulumi.Input[str]] = field(default_factory=tuple)


def alarm_name(environment: str, key: str, metric: str) -> str:
    """`prod-api-http-5xx-percent`: fixed, so deployment configurations can name it."""
    return bounded("aws:cloudwatch/metricAlarm:MetricAlarm", f"{family(environment, key)}-{metric.replace('_', '-')}")


def _metric(id_: str, namespace: str, name: str, stat: str, dimensions: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": id_,
        "return_data": False,
        "metric": {"namespace": namespace, "metric_name": name, "stat": stat, "period": PERIOD_SECONDS, "dimensions": dimensions},
    }


def _expression(expression: str, label: str) -> dict[str, Any]:
    return {"id": "result", "expression": expression, "label": label, "return_data": True}


def alarm_specs(args: ServiceAlarmsArgs) -> list[AlarmSpec]:
    """One spec per configured threshold, in a fixed order."""
    thresholds = args.thresholds
    service = {"ClusterName": args.cluster_name, "ServiceName": args.key}
    groups = [{"LoadBalancer": args.load_balancer_arn_suffix, "TargetGroup": tg} for tg in args.target_group_arn_suffixes]
    specs: list[AlarmSpec] = []
    if "http_5xx_percent" in thresholds and groups:
        queries = []
        for index, dims in enumerate(groups):
            queries.append(_metric(f"errors{index}", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", dims))
            queries.append(_metric(f"requests{index}", "AWS/ApplicationELB", "RequestCount", "Sum", dims))
        errors = " + ".join(f"FILL(errors{i}, 0)" for i in range(len(groups)))
        requests = " + ".join(f"FILL(requests{i}, 0)" for i in range(len(groups)))
        queries.append(_expression(f"IF(({requests}) > 0, 100 * ({errors}) / ({requests}), 0)", "5xx percent"))
        specs.append(AlarmSpec("http_5xx_percent", f"{args.key}: over {thresholds['http_5xx_percent']}% of requests answered 5xx",
                               float(thresholds["http_5xx_percent"]), "GreaterThanThreshold", queries))  # type: ignore[arg-type]
    if "p99_latency_ms" in thresholds and groups:
        queries = [_metric(f"p99g{i}", "AWS/ApplicationELB", "TargetResponseTime", "p99", dims) for i, dims in enumerate(groups)]
        # TargetResponseTime is in seconds; the threshold is written in milliseconds.
        queries.append(_expression(f"1000 * MAX([{', '.join(f'p99g{i}' for i in range(len(groups)))}])", "p99 ms"))
        specs.append(AlarmSpec("p99_latency_ms", f"{args.key}: p99 response time above {thresholds['p99_latency_ms']} ms",
                               float(thresholds["p99_latency_ms"]), "GreaterThanThreshold", queries))  # type: ignore[arg-type]
    for metric, name in (("cpu", "CPUUtilization"), ("memory", "MemoryUtilization")):
        if metric in thresholds:
            queries = [_metric("utilisation", "AWS/ECS", name, "Average", service), _expression("utilisation", f"{metric} percent")]
            specs.append(AlarmSpec(metric, f"{args.key}: average {metric} above {thresholds[metric]}%",
                                   float(thresholds[metric]), "GreaterThanThreshold", queries))  # type: ignore[arg-type]
    if thresholds.get("running_below_desired"):
        # Container Insights publishes both counts per service.
        queries = [
            _metric("running", "ECS/ContainerInsights", "RunningTaskCount", "Average", service),
            _metric("desired", "ECS/ContainerInsights", "DesiredTaskCount", "Average", service),
            _expression("desired - running", "tasks missing"),
        ]
        specs.append(AlarmSpec("running_below_desired", f"{args.key}: fewer tasks running than desired",
                               0.0, "GreaterThanThreshold", queries))
    return specs


def _query_args(query: dict[str, Any]) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    metric = query.get("metric")
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query["id"],
        expression=query.get("expression"),
        label=query.get("label"),
        return_data=query["return_data"],
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(**metric) if metric else None,
    )


class ServiceAlarms(pulumi.ComponentResource):
    """Outputs: alarm_names (metric -> the alarm's name), alarm_arns (metric -> ARN)."""

    def __init__(self, name: str, args: ServiceAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        specs = alarm_specs(args)
        super().__init__(type_token("alarms", "ServiceAlarms"), name, None, opts)
        self.alarm_names: dict[str, str] = {}
        self.alarm_arns: dict[str, pulumi.Output[str]] = {}
        for spec in specs:
            alarm = aws.cloudwatch.MetricAlarm(
                child(name, spec.metric.replace("_", "-")),
                name=alarm_name(args.environment, args.key, spec.metric),
                alarm_description=spec.description,
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=EVALUATION_PERIODS,
                datapoints_to_alarm=DATAPOINTS_TO_ALARM,
                metric_queries=[_query_args(q) for q in spec.queries],
                # No data (no traffic, a service scaled to zero) is not an incident.
                treat_missing_data="notBreaching",
                alarm_actions=[args.topic_arn],
                ok_actions=[args.topic_arn],
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.alarm_names[spec.metric] = alarm_name(args.environment, args.key, spec.metric)
            self.alarm_arns[spec.metric] = alarm.arn
        self.register_outputs({"alarm_names": self.alarm_names, "alarm_arns": self.alarm_arns})


# --------------------------------------------------------------------------------------------
# The environment's topic
# --------------------------------------------------------------------------------------------


def topic_key_policy(facts: PlatformFacts) -> str:
    """The account administers the key; CloudWatch may encrypt alarm notifications with it
    (an SNS topic under the AWS-managed aws/sns key cannot receive alarms: CloudWatch is not
    allowed to use that key). https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger"""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_root_arn(facts.partition, facts.account_id)},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": facts.account_id}},
                },
            ],
        },
        sort_keys=True,
    )


def topic_policy(topic_arn: str, facts: PlatformFacts) -> str:
    """Only this account's CloudWatch alarms may publish. The account's own principals need no
    statement here: within an account, their IAM policies decide (and subscriptions are managed
    that way too)."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "CloudWatchAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": facts.account_id},
                        "ArnLike": {"aws:SourceArn": f"arn:{facts.partition}:cloudwatch:{facts.region}:{facts.account_id}:alarm:*"},
                    },
                },
            ],
        },
        sort_keys=True,
    )


def notification_topic(
    resource_name: str, *, environment: str, facts: PlatformFacts, tags: dict[str, str], parent: pulumi.Resource
) -> aws.sns.Topic:
    """The environment's alarm topic, encrypted with its own key; subscribe people to it."""
    key = aws.kms.Key(
        child(resource_name, "key"),
        description=f"Encrypts the {environment} alarm notifications",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=topic_key_policy(facts),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    topic = aws.sns.Topic(
        resource_name,
        name=bounded("aws:sns/topic:Topic", f"{environment}-alarms"),
        kms_master_key_id=key.arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.sns.TopicPolicy(
        child(resource_name, "policy"),
        arn=topic.arn,
        policy=topic.arn.apply(lambda arn: topic_policy(arn, facts)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return topic
