"""Deployment strategies: the ECS service's registered inputs per strategy, what native
deployments need on the load balancer, timeouts, validation, botocore's CreateService shape,
and the review diff naming the strategy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from configs.errors import ConfigError
from review.offline import CapturedResource
from tests.components.test_service import _ints, create_service_request, validate
from tests.harness import edited, plan_of

SERVICE = "aws:ecs/service:Service"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ACCOUNT = "111111111111"  # dev's


def with_deployment(**deployment: Any):
    def edit(data: dict) -> None:
        data["services"]["api"]["deployment"] = deployment
    return edit


def dev_plan(**deployment: Any):
    return plan_of(edited("dev", with_deployment(**deployment)))


def api_service(plan) -> CapturedResource:
    return plan.named("dev-api-service", SERVICE)


def native_create_service_request(service: CapturedResource) -> dict:
    """CreateService with the native deployment's configuration, alarms and advanced load balancer settings."""
    request = create_service_request(service)
    p = service.props
    configuration = dict(p.get("deploymentConfiguration") or {})
    # pulumi-aws 7.x types bake times as strings; the API takes integers.
    for key in ("bakeTimeInMinutes",):
        if key in configuration:
            configuration[key] = int(configuration[key])
    for block, key in (("canaryConfiguration", "canaryBakeTimeInMinutes"), ("linearConfiguration", "stepBakeTimeInMinutes")):
        if block in configuration:
            configuration[block] = {**configuration[block], key: int(configuration[block][key])}
    request["deploymentConfiguration"] = {k: v for k, v in {**request["deploymentConfiguration"], **configuration}.items() if v is not None}
    if "alarms" in p:
        request["deploymentConfiguration"]["alarms"] = p["alarms"]
    if "loadBalancers" in p:
        request["loadBalancers"] = [
            {k: v for k, v in lb.items() if k in ("targetGroupArn", "containerName", "containerPort", "advancedConfiguration")}
            for lb in p["loadBalancers"]
        ]
    return _ints(request)


def test_rolling_is_the_default_with_the_circuit_breaker():
    props = api_service(dev_plan()).props
    assert props["deploymentConfiguration"] == {"strategy": "ROLLING"}
    assert props["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (props["deploymentMinimumHealthyPercent"], props["deploymentMaximumPercent"]) == (100, 200)
    assert "advancedConfiguration" not in props["loadBalancers"][0]
    assert "alarms" not in props


@pytest.mark.parametrize(
    "deployment, configuration",
    [
        ({"strategy": "blue_green"}, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "15"}),
        ({"strategy": "blue_green", "bake_minutes": 1440}, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "1440"}),
        ({"strategy": "canary", "canary": {"percent": 10, "bake_minutes": 5}, "bake_minutes": 15},
         {"strategy": "CANARY", "bakeTimeInMinutes": "15", "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": "5"}}),
        ({"strategy": "canary"},
         {"strategy": "CANARY", "bakeTimeInMinutes": "15", "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": "10"}}),
        ({"strategy": "linear", "linear": {"percent": 20, "interval_minutes": 2}, "bake_minutes": 0},
         {"strategy": "LINEAR", "bakeTimeInMinutes": "0", "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": "2"}}),
        ({"strategy": "linear", "linear": {"percent": 12.5}},
         {"strategy": "LINEAR", "bakeTimeInMinutes": "15", "linearConfiguration": {"stepPercent": 12.5, "stepBakeTimeInMinutes": "6"}}),
    ],
    ids=["blue-green", "blue-green-day-long-bake", "canary", "canary-defaults", "linear", "linear-fraction"],
)
def test_native_strategies_register_their_configuration_without_the_circuit_breaker(deployment, configuration):
    plan = dev_plan(**deployment)
    service = api_service(plan)
    props = service.props
    assert props["deploymentConfiguration"] == configuration
    assert "deploymentCircuitBreaker" not in props  # ECS: the circuit breaker is for rolling deployments only
    [lb] = props["loadBalancers"]
    role = plan.named("dev-alb-ecs-infrastructure", "aws:iam/role:Role")
    assert lb["advancedConfiguration"] == {
        "alternateTargetGroupArn": f"arn:aws:lb:eu-west-1:{ACCOUNT}:targetgroup/dev-alb-tg-api-alt",
        "productionListenerRule": f"arn:aws:lb:eu-west-1:{ACCOUNT}:listenerrule/dev-alb-rule-api",
        "testListenerRule": f"arn:aws:lb:eu-west-1:{ACCOUNT}:listenerrule/dev-alb-rule-api-test",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role.name}",
    }
    validate("CreateService", native_create_service_request(service))


def test_the_load_balancer_gets_an_alternate_group_a_weighted_rule_ecs_owns_and_a_header_test_rule():
    plan = dev_plan(strategy="canary")
    primary, alternate = plan.named("dev-alb-tg-api", TARGET_GROUP), plan.named("dev-alb-tg-api-alt", TARGET_GROUP)
    same = ("port", "protocol", "targetType", "vpcId", "healthCheck", "deregistrationDelay")
    assert {k: alternate.props[k] for k in same} == {k: primary.props[k] for k in same}
    assert alternate.props["name"] != primary.props["name"] and len(alternate.props["name"]) <= 32
    production, test = plan.named("dev-alb-rule-api", RULE), plan.named("dev-alb-rule-api-test", RULE)
    assert production.props["actions"] == [{"type": "forward", "forward": {"targetGroups": [
        {"arn": f"arn:aws:lb:eu-west-1:{ACCOUNT}:targetgroup/dev-alb-tg-api", "weight": 100},
        {"arn": f"arn:aws:lb:eu-west-1:{ACCOUNT}:targetgroup/dev-alb-tg-api-alt", "weight": 0},
    ]}}]
    # ECS moves the weights: `pulumi up` must not put them back.
    assert production.ignore_changes == ("actions",) and test.ignore_changes == ("actions",)
    assert (production.props["priority"], test.props["priority"]) == (10, 9)  # the test rule matches first
    assert test.props["listenerArn"] == production.props["listenerArn"]
    assert test.props["conditions"] == [
        {"pathPattern": {"values": ["/api/*"]}},
        {"httpHeader": {"httpHeaderName": "X-Deployment-Test", "values": ["true"]}},
    ]
    role = plan.named("dev-alb-ecs-infrastructure", "aws:iam/role:Role").props
    assert json.loads(role["assumeRolePolicy"])["Statement"] == [{
        "Sid": "EcsOfThisAccount", "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }]
    assert role["managedPolicyArns"] == ["arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"]


def test_rolling_services_get_none_of_it():
    plan = dev_plan()
    names = {r.name for r in plan.resources}
    assert {"dev-alb-tg-api-alt", "dev-alb-rule-api-test", "dev-alb-ecs-infrastructure"} & names == set()
    assert plan.named("dev-alb-rule-api", RULE).ignore_changes == ()


def test_rollback_alarms_name_the_services_alarms_and_the_alarms_watch_both_target_groups():
    def edit(data):
        data["services"]["api"]["deployment"] = {"strategy": "blue_green", "rollback_alarms": True}
        data["services"]["api"]["alarms"] = {"http_5xx_percent": 2, "memory": 90}

    plan = plan_of(edited("dev", edit))
    service = api_service(plan)
    assert service.props["alarms"] == {"alarmNames": ["dev-api-http-5xx-percent", "dev-api-memory"], "enable": True, "rollback": True}
    # Deployment alarms exist before the service that names them.
    assert {plan.named(f"dev-api-alarms-{m}").urn for m in ("http-5xx-percent", "memory")} <= set(service.depends_on)
    five = plan.named("dev-api-alarms-http-5xx-percent").props["metricQueries"]
    groups = [q["metric"]["dimensions"]["TargetGroup"] for q in five if q.get("metric") and q["metric"]["metricName"] == "RequestCount"]
    assert [g.split("/")[1] for g in groups] == ["dev-alb-tg-api", "dev-alb-tg-api-alt"]
    validate("CreateService", native_create_service_request(service))


def test_rolling_services_can_roll_back_on_alarms_too():
    def edit(data):
        data["services"]["api"]["deployment"] = {"rollback_alarms": True}
        data["services"]["api"]["alarms"] = {"cpu": 90}

    props = api_service(plan_of(edited("dev", edit))).props
    assert props["alarms"] == {"alarmNames": ["dev-api-cpu"], "enable": True, "rollback": True}
    assert props["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


@pytest.mark.parametrize(
    "deployment, minutes",
    [
        ({}, "30m"),
        ({"strategy": "blue_green"}, "45m"),  # 30 + bake 15
        ({"strategy": "blue_green", "bake_minutes": 1440}, "1470m"),
        ({"strategy": "canary", "canary": {"percent": 10, "bake_minutes": 5}, "bake_minutes": 15}, "50m"),
        ({"strategy": "linear", "linear": {"percent": 20, "interval_minutes": 2}, "bake_minutes": 0}, "38m"),  # 4 waits of 2
        ({"strategy": "linear", "linear": {"percent": 30, "interval_minutes": 10}, "timeout_minutes": 10}, "55m"),  # 3 waits + 15
    ],
    ids=["rolling", "blue-green", "day-long-bake", "canary", "linear", "linear-uneven"],
)
def test_pulumi_waits_as_long_as_the_deployment_bakes(deployment, minutes):
    service = api_service(dev_plan(**deployment))  # dev deploys with pulumi: `up` waits
    assert dict(service.custom_timeouts) == {"create": minutes, "update": minutes}


@pytest.mark.parametrize(
    "edit, path, fragment",
    [
        (lambda d: d["services"]["worker"].update(deployment={"strategy": "canary"}),
         "services.worker.deployment.strategy", "canary shifts load balancer traffic between two revisions, and worker is not exposed"),
        (with_deployment(strategy="linear", canary={"percent": 10}), "services.api.deployment.canary", "the strategy is linear"),
        (with_deployment(strategy="canary", canary={"percent": 0.05}), "services.api.deployment.canary.percent", "use 0.1 to 100 in steps of 0.1"),
        (with_deployment(strategy="canary", canary={"percent": 2.55}), "services.api.deployment.canary.percent", "steps of 0.1"),
        (with_deployment(strategy="linear", linear={"percent": 2}), "services.api.deployment.linear.percent", "use 3 to 100"),
        (with_deployment(strategy="linear", linear={"interval_minutes": 1441}), "services.api.deployment.linear.interval_minutes", "1440"),
        (with_deployment(strategy="blue_green", bake_minutes=2000), "services.api.deployment.bake_minutes", "1440"),
        (with_deployment(bake_minutes=10), "services.api.deployment.bake_minutes", "rolling deployments do not keep the old revision"),
        (with_deployment(strategy="red_black"), "services.api.deployment.strategy", "rolling"),
        (lambda d: (with_deployment(strategy="canary")(d), d["services"]["api"]["expose"].update(priority=1)),
         "services.api.expose.priority", "leaves no priority for the canary test rule"),
        (lambda d: (with_deployment(strategy="canary")(d), d["services"]["worker"].update(expose={"paths": ["/w/*"], "priority": 9})),
         "services.api.expose.priority", "takes priority 9, which worker uses"),
        (lambda d: (with_deployment(strategy="blue_green")(d), d["services"]["api"]["expose"].update(paths=["/a", "/b", "/c", "/d", "/e"])),
         "services.api.expose", "route at most 4"),
    ],
    ids=["not-exposed", "canary-settings-on-linear", "canary-too-small", "canary-two-decimals", "linear-too-small",
         "interval-too-long", "bake-too-long", "bake-on-rolling", "unknown-strategy", "no-test-priority", "test-priority-taken",
         "too-many-routes"],
)
def test_bad_strategies_are_refused_at_load(edit, path, fragment):
    with pytest.raises(ConfigError) as error:
        edited("dev", edit)
    issues = [i for i in error.value.issues if i.path == path]
    assert len(issues) == 1 and fragment in issues[0].message, error.value.report()


def test_the_review_diff_names_the_strategy_a_change_rolls_out_with():
    from review.diff import diff_plans
    from review.render import change_detail

    def bump(data):
        data["services"]["api"]["image"]["tag"] = "v1.4.3"
        data["services"]["api"]["deployment"] = {"strategy": "canary", "canary": {"percent": 10, "bake_minutes": 5}}

    base = plan_of(edited("dev", with_deployment(strategy="canary", canary={"percent": 10, "bake_minutes": 5})))
    head = plan_of(edited("dev", bump))
    change = next(c for c in diff_plans(base, head).changes if c.name == "dev-api-task-definition")
    assert change.rollout == "CANARY (10% of traffic for 5 min, then all; both revisions kept 15 min)"
    assert "rolls out with CANARY (10% of traffic for 5 min, then all; both revisions kept 15 min)" in change_detail(change)
    rolling = next(c for c in diff_plans(plan_of(edited("dev", lambda d: None)), plan_of(edited("dev", lambda d: d["services"]["api"]["image"].update(tag="v1.4.3")))).changes
                   if c.name == "dev-api-task-definition")
    assert rolling.rollout == "ROLLING (min 100%, max 200%, circuit breaker with rollback)"
