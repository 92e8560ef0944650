"""components/scaling.py: queue scaling (AWS's backlog-per-task metric math), the wake-up from
zero tasks, scheduled capacity, and what AWS's request shapes say about them."""

from __future__ import annotations

import json
from functools import lru_cache

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.iam import SQS_CONSUME_ACTIONS, task_policy_document
from configs.schedules import schedule_key
from tests.harness import edited, plan_of, reference_plan

POLICY = "aws:appautoscaling/policy:Policy"
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"
TARGET = "aws:appautoscaling/target:Target"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
STAGING_QUEUE = "arn:aws:sqs:eu-west-1:222222222222:orders"
PROD_QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"
QUEUE_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-1111-2222-3333-444455556666"
NIGHT, MORNING = "cron(0 20 ? * MON-FRI *)", "cron(0 7 ? * MON-FRI *)"


def idle_at_zero(data):
    """staging's worker may sit at zero tasks by day too: the wake-up policy is needed."""
    data["services"]["worker"]["desired_count"] = 0
    data["services"]["worker"]["autoscaling"].update(min=0)


@lru_cache(maxsize=None)
def zero_plan():
    return plan_of(edited("staging", idle_at_zero))


# ---- queue: target tracking on backlog per task ----------------------------------------------


def test_queue_policy_is_aws_backlog_per_task_metric_math():
    policy = reference_plan("staging").named("staging-worker-scale-queue", POLICY).props
    assert (policy["name"], policy["policyType"], policy["resourceId"]) == (
        "staging-worker-queue", "TargetTrackingScaling", "service/staging-cluster/worker")
    config = policy["targetTrackingScalingPolicyConfiguration"]
    assert (config["targetValue"], config["scaleOutCooldown"], config["scaleInCooldown"]) == (100.0, 60.0, 300.0)
    assert "predefinedMetricSpecification" not in config
    assert config["customizedMetricSpecification"] == {"metrics": [
        {"id": "m1", "returnData": False, "metricStat": {"stat": "Sum", "metric": {
            "namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible",
            "dimensions": [{"name": "QueueName", "value": "orders"}]}}},
        {"id": "m2", "returnData": False, "metricStat": {"stat": "Average", "metric": {
            "namespace": "ECS/ContainerInsights", "metricName": "RunningTaskCount",
            "dimensions": [{"name": "ClusterName", "value": "staging-cluster"}, {"name": "ServiceName", "value": "worker"}]}}},
        {"id": "e1", "expression": "m1 / m2", "label": "visible messages per running task", "returnData": True},
    ]}


def test_queue_beside_cpu_and_memory_is_one_more_policy_on_the_same_target():
    plan = reference_plan("staging")
    worker = sorted(p.props["name"] for p in plan.of_type(POLICY) if p.props["resourceId"] == "service/staging-cluster/worker")
    assert worker == ["staging-worker-cpu", "staging-worker-memory", "staging-worker-queue"]
    assert [t.name for t in plan.of_type(TARGET)] == ["staging-api-scaling", "staging-worker-scaling"]


def test_no_wake_up_where_the_service_never_idles_at_zero():
    # staging: min 1, and its night entry is 0-0 (stopped on purpose); prod: min 2.
    for environment in ("staging", "prod"):
        plan = reference_plan(environment)
        assert [p.name for p in plan.of_type(POLICY) if "wake" in p.name] == []
        assert [a.name for a in plan.of_type(ALARM) if "wake" in a.name] == []


def test_min_zero_adds_a_step_policy_that_starts_one_task_when_messages_wait():
    plan = zero_plan()
    wake = plan.named("staging-worker-scale-queue-wake", POLICY).props
    assert (wake["name"], wake["policyType"]) == ("staging-worker-queue-wake", "StepScaling")
    assert wake["stepScalingPolicyConfiguration"] == {
        "adjustmentType": "ChangeInCapacity",  # +1, never an exact count that could scale in
        "cooldown": 60.0,
        "metricAggregationType": "Maximum",
        "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1.0}],
    }
    alarm = plan.named("staging-worker-queue-wake", ALARM).props
    assert (alarm["name"], alarm["comparisonOperator"], alarm["threshold"], alarm["evaluationPeriods"], alarm["treatMissingData"]) == (
        "staging-worker-queue-wake", "GreaterThanOrEqualToThreshold", 1.0, 1.0, "notBreaching")
    queries = alarm["metricQueries"]
    assert [(q["id"], q.get("returnData")) for q in queries] == [("m1", False), ("m2", False), ("e1", True)]
    assert queries[0]["metric"] == {"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible",
                                    "dimensions": {"QueueName": "orders"}, "stat": "Maximum", "period": 60.0}
    assert queries[1]["metric"]["dimensions"] == {"ClusterName": "staging-cluster", "ServiceName": "worker"}
    assert queries[2]["expression"] == "IF(m1 > 0 AND FILL(m2, 0) == 0, 1, 0)"
    # The mocks give the policy an ARN from its name: the alarm invokes exactly that policy.
    assert alarm["alarmActions"] == ["arn:aws:appautoscaling:eu-west-1:222222222222:policy/staging-worker-scale-queue-wake"]
    assert plan.named("staging-worker-queue-wake", ALARM).property_dependencies["alarmActions"] == (
        plan.named("staging-worker-scale-queue-wake", POLICY).urn,)


# ---- scheduled capacity -----------------------------------------------------------------------


def test_each_schedule_entry_is_a_scheduled_action_named_from_its_expression():
    plan = reference_plan("staging")
    actions = {a.name: a.props for a in plan.of_type(SCHEDULED)}
    assert actions == {
        f"staging-worker-schedule-{schedule_key(NIGHT)}": {
            "name": f"staging-worker-{schedule_key(NIGHT)}",
            "serviceNamespace": "ecs", "scalableDimension": "ecs:service:DesiredCount", "resourceId": "service/staging-cluster/worker",
            "schedule": NIGHT, "timezone": "Europe/Dublin", "scalableTargetAction": {"minCapacity": 0.0, "maxCapacity": 0.0},
        },
        f"staging-worker-schedule-{schedule_key(MORNING)}": {
            "name": f"staging-worker-{schedule_key(MORNING)}",
            "serviceNamespace": "ecs", "scalableDimension": "ecs:service:DesiredCount", "resourceId": "service/staging-cluster/worker",
            "schedule": MORNING, "timezone": "Europe/Dublin", "scalableTargetAction": {"minCapacity": 1.0, "maxCapacity": 4.0},
        },
    }
    assert schedule_key(NIGHT) == "cron-0-20-mon-fri-edb597"


def test_reordering_or_resizing_entries_renames_nothing():
    def reorder(data):
        schedule = data["services"]["worker"]["autoscaling"]["schedule"]
        schedule.reverse()
        schedule[0]["max"] = 3

    before = {a.name for a in reference_plan("staging").of_type(SCHEDULED)}
    after = plan_of(edited("staging", reorder))
    assert {a.name for a in after.of_type(SCHEDULED)} == before
    assert {a.props["scalableTargetAction"]["maxCapacity"] for a in after.of_type(SCHEDULED)} == {0.0, 3.0}


def test_with_a_schedule_the_target_leaves_min_and_max_to_the_scheduled_actions():
    plan = reference_plan("staging")
    assert plan.named("staging-worker-scaling", TARGET).ignore_changes == ("minCapacity", "maxCapacity")
    assert plan.named("staging-api-scaling", TARGET).ignore_changes == ()  # no schedule: pulumi up owns them


# ---- AWS's request shapes (botocore) -----------------------------------------------------------

AAS = botocore.session.get_session().get_service_model("application-autoscaling")
CLOUDWATCH = botocore.session.get_session().get_service_model("cloudwatch")


def validate(model, operation: str, params: dict) -> None:
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def pascal(value):
    """Wire (camelCase) props -> the API's PascalCase; whole floats back to ints."""
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def scaling_request(props: dict) -> dict:
    request = {"PolicyName": props["name"], "ServiceNamespace": "ecs", "ResourceId": props["resourceId"],
               "ScalableDimension": props["scalableDimension"], "PolicyType": props["policyType"]}
    if "targetTrackingScalingPolicyConfiguration" in props:
        request["TargetTrackingScalingPolicyConfiguration"] = pascal(props["targetTrackingScalingPolicyConfiguration"])
        request["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = float(props["targetTrackingScalingPolicyConfiguration"]["targetValue"])
    else:
        step = pascal(props["stepScalingPolicyConfiguration"])
        for adjustment in step["StepAdjustments"]:
            adjustment["MetricIntervalLowerBound"] = float(adjustment["MetricIntervalLowerBound"])
        request["StepScalingPolicyConfiguration"] = step
    return request


def test_put_scaling_policy_accepts_the_queue_and_wake_policies():
    plan = zero_plan()
    for name in ("staging-worker-scale-queue", "staging-worker-scale-queue-wake"):
        validate(AAS, "PutScalingPolicy", scaling_request(plan.named(name, POLICY).props))


def test_put_scaling_policy_shape_would_catch_a_metric_without_its_stat():
    props = json.loads(json.dumps(reference_plan("staging").named("staging-worker-scale-queue", POLICY).props))
    del props["targetTrackingScalingPolicyConfiguration"]["customizedMetricSpecification"]["metrics"][0]["metricStat"]["stat"]
    report = ParamValidator().validate(scaling_request(props), AAS.operation_model("PutScalingPolicy").input_shape)
    assert "Missing required parameter" in report.generate_report()


def test_put_scheduled_action_accepts_each_entry():
    for action in reference_plan("staging").of_type(SCHEDULED):
        props = action.props
        validate(AAS, "PutScheduledAction", {
            "ServiceNamespace": props["serviceNamespace"], "ScheduledActionName": props["name"], "ResourceId": props["resourceId"],
            "ScalableDimension": props["scalableDimension"], "Schedule": props["schedule"], "Timezone": props["timezone"],
            "ScalableTargetAction": pascal(props["scalableTargetAction"]),
        })


def test_put_metric_alarm_accepts_the_wake_alarm():
    props = zero_plan().named("staging-worker-queue-wake", ALARM).props
    queries = pascal(props["metricQueries"])
    for query in queries:
        if "Metric" in query:
            metric = query.pop("Metric")
            query["MetricStat"] = {"Metric": {"Namespace": metric["Namespace"], "MetricName": metric["MetricName"],
                                              "Dimensions": [{"Name": k, "Value": v} for k, v in metric["Dimensions"].items()]},
                                   "Period": metric["Period"], "Stat": metric["Stat"]}
    validate(CLOUDWATCH, "PutMetricAlarm", {
        "AlarmName": props["name"], "ComparisonOperator": props["comparisonOperator"], "EvaluationPeriods": 1,
        "Threshold": props["threshold"], "TreatMissingData": props["treatMissingData"], "Metrics": queries,
        "AlarmActions": ["arn:aws:autoscaling:eu-west-1:222222222222:scalingPolicy:1:resource/ecs/service/staging-cluster/worker:policyName/x"],
    })


# ---- the task role: exactly the consume actions ---------------------------------------------


def test_the_worker_task_role_consumes_its_queue_and_nothing_else():
    role = json.loads(reference_plan("staging").named("staging-worker-task-policy").props["policy"])
    assert role["Statement"] == [{"Sid": "ConsumeQueue", "Effect": "Allow", "Action": list(SQS_CONSUME_ACTIONS), "Resource": [STAGING_QUEUE]}]
    assert list(SQS_CONSUME_ACTIONS) == [
        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]


def test_a_customer_key_is_decrypted_through_sqs_only():
    class Queue:
        arn, kms_key = PROD_QUEUE, QUEUE_KEY

    document = task_policy_document([], None, exec_enabled=False, exec_kms_key_arn=None, queue=Queue())
    assert document["Statement"][1] == {
        "Sid": "ConsumeQueueDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [QUEUE_KEY],
        "Condition": {"StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}},
    }


@pytest.mark.parametrize("kms_key", [None, QUEUE_KEY])
def test_consume_documents_pass_parliament(kms_key):
    import parliament
    from pathlib import Path

    from parliament import analyze_policy_string, enhance_finding, override_config

    class Queue:
        arn = PROD_QUEUE

    Queue.kms_key = kms_key
    override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    document = task_policy_document([], None, exec_enabled=False, exec_kms_key_arn=None, queue=Queue())
    findings = [enhance_finding(f) for f in analyze_policy_string(json.dumps(document), include_community_auditors=True).findings]
    assert [(f.severity, f.issue) for f in findings if f.severity not in ("MUTE", "INFO", "LOW")] == []
