"""components/alarms.py: per-service CloudWatch alarms, the environment's topic, and the
production tier's defaults."""

from __future__ import annotations

import json

import pytest

from configs.errors import ConfigError
from tests.harness import edited, plan_of, reference_plan

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
ACCOUNT = "123456789012"
PROD_TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic/prod-alarms"


def alarms(plan) -> dict[str, dict]:
    return {a.props["name"]: a.props for a in plan.of_type(ALARM)}


def test_production_tier_exposed_services_get_5xx_and_running_below_desired():
    plan = reference_plan("prod")
    found = alarms(plan)
    assert sorted(found) == ["prod-api-http-5xx-percent", "prod-api-running-below-desired"]  # worker, reports: not exposed
    five = found["prod-api-http-5xx-percent"]
    topic = plan.named("prod-alarms", TOPIC)
    assert plan.outputs["alarm_topic_arn"] == PROD_TOPIC
    assert five["alarmActions"] == five["okActions"] == [PROD_TOPIC]
    assert (five["comparisonOperator"], five["threshold"], five["evaluationPeriods"], five["datapointsToAlarm"]) == (
        "GreaterThanThreshold", 5.0, 5, 3
    )
    assert five["treatMissingData"] == "notBreaching"
    tg = plan.named("prod-alb-tg-api").props
    assert [q["id"] for q in five["metricQueries"]] == ["errors0", "requests0", "result"]
    errors = five["metricQueries"][0]["metric"]
    assert (errors["namespace"], errors["metricName"], errors["stat"], errors["period"]) == ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", 60)
    assert errors["dimensions"]["TargetGroup"].startswith("targetgroup/prod-alb-tg-api/")
    assert five["metricQueries"][2] == {
        "id": "result",
        "expression": "IF((FILL(requests0, 0)) > 0, 100 * (FILL(errors0, 0)) / (FILL(requests0, 0)), 0)",
        "label": "5xx percent",
        "returnData": True,
    }
    running = found["prod-api-running-below-desired"]
    assert [q["metric"]["metricName"] for q in running["metricQueries"][:2]] == ["RunningTaskCount", "DesiredTaskCount"]
    assert running["metricQueries"][0]["metric"]["dimensions"] == {"ClusterName": "prod-cluster", "ServiceName": "api"}
    assert (running["threshold"], running["metricQueries"][2]["expression"]) == (0.0, "desired - running")
    assert tg["port"] == 8080.0


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_only_this_accounts_alarms_publish():
    plan = reference_plan("prod")
    topic = plan.named("prod-alarms", TOPIC)
    key = plan.named("prod-alarms-key")
    assert topic.props["kmsMasterKeyId"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/prod-alarms-key"
    statements = {s["Sid"]: s for s in json.loads(key.props["policy"])["Statement"]}
    assert statements["CloudWatchAlarmsPublish"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statements["CloudWatchAlarmsPublish"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    policy = json.loads(plan.named("prod-alarms-policy").props["policy"])
    cloudwatch = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsOfThisAccount")
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"},
    }


def every_alarm(data):
    data["services"]["api"]["alarms"] = {"http_5xx_percent": 2.5, "p99_latency_ms": 800, "cpu": 85, "memory": 90, "running_below_desired": True}
    data["services"]["worker"]["alarms"] = {"cpu": 70}


def test_each_configured_alarm_with_its_threshold_outside_production():
    plan = plan_of(edited("staging", every_alarm))
    found = alarms(plan)
    assert {name: props["threshold"] for name, props in found.items()} == {
        "staging-api-http-5xx-percent": 2.5,
        "staging-api-p99-latency-ms": 800.0,
        "staging-api-cpu": 85.0,
        "staging-api-memory": 90.0,
        "staging-api-running-below-desired": 0.0,
        "staging-worker-cpu": 70.0,
    }
    p99 = found["staging-api-p99-latency-ms"]["metricQueries"]
    assert (p99[0]["metric"]["metricName"], p99[0]["metric"]["stat"]) == ("TargetResponseTime", "p99")
    assert p99[1]["expression"] == "1000 * MAX([p99g0])"  # seconds -> milliseconds
    memory = found["staging-api-memory"]["metricQueries"][0]["metric"]
    assert (memory["namespace"], memory["metricName"], memory["dimensions"]["ServiceName"]) == ("AWS/ECS", "MemoryUtilization", "api")
    topic = plan.outputs["alarm_topic_arn"]
    assert all(props["alarmActions"] == [topic] for props in found.values())


def test_staging_gets_no_alarms_by_default():
    assert alarms(reference_plan("staging")) == {}
    assert reference_plan("staging").of_type(TOPIC) != []  # the topic exists for alarms added later


def test_a_given_topic_is_used_and_none_is_created():
    notify = f"arn:aws:sns:eu-west-1:{ACCOUNT}:oncall"
    plan = plan_of(edited("prod", lambda d: d.update(alarms={"notify": notify})))
    assert plan.of_type(TOPIC) == [] and plan.outputs["alarm_topic_arn"] == notify
    assert {tuple(a.props["alarmActions"]) for a in plan.of_type(ALARM)} == {(notify,)}


def test_production_thresholds_can_change():
    plan = plan_of(edited("prod", lambda d: d["services"]["api"].update(alarms={"http_5xx_percent": 1})))
    assert {a.props["name"]: a.props["threshold"] for a in plan.of_type(ALARM)} == {
        "prod-api-http-5xx-percent": 1.0,
        "prod-api-running-below-desired": 0.0,
    }


@pytest.mark.parametrize(
    "environment, edit, path, fragment",
    [
        ("prod", lambda d: d["services"]["api"].update(alarms={"running_below_desired": False}),
         "services.api.alarms.running_below_desired", "the production tier keeps this alarm"),
        ("staging", lambda d: d["services"]["worker"].update(alarms={"http_5xx_percent": 2}),
         "services.worker.alarms.http_5xx_percent", "measured by the load balancer, and worker is not exposed"),
        ("staging", lambda d: d["services"]["worker"].update(alarms={"p99_latency_ms": 500}),
         "services.worker.alarms.p99_latency_ms", "measured by the load balancer"),
        ("staging", lambda d: d["services"]["api"].update(alarms={"http_5xx_percent": 2.55}),
         "services.api.alarms.http_5xx_percent", "more than one decimal"),
        ("staging", lambda d: d["services"]["api"].update(deployment={"rollback_alarms": True}),
         "services.api.deployment.rollback_alarms", "it has none"),
        ("prod", lambda d: d.update(alarms={"notify": f"arn:aws:sns:us-east-1:{ACCOUNT}:oncall"}),
         "alarms.notify", "the topic is in us-east-1"),
        ("prod", lambda d: d.update(alarms={"notify": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:oncall"}),
         "alarms.notify", "is not an SNS topic ARN"),
        ("staging", lambda d: (d["cluster"].update(container_insights="disabled"), d["services"]["api"].update(alarms={"running_below_desired": True})),
         "services.api.alarms.running_below_desired", "needs Container Insights"),
    ],
    ids=["remove-in-production", "5xx-unexposed", "latency-unexposed", "5xx-two-decimals", "rollback-without-alarms",
         "topic-other-region", "not-a-topic", "no-container-insights"],
)
def test_bad_alarm_settings_are_refused_at_load(environment, edit, path, fragment):
    with pytest.raises(ConfigError) as error:
        edited(environment, edit)
    issues = [i for i in error.value.issues if i.path == path]
    assert len(issues) == 1 and fragment in issues[0].message, error.value.report()
