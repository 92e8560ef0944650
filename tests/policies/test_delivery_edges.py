"""Edges of the delivery rules (policies/delivery.py) through the pack: the GitHub OIDC trust of a
deploy role, one field of the pinned statement changed per case, and the production-tier
alarms; every violation named whole (policy, resource and the entire message)."""

from __future__ import annotations

import json

import pytest

from .stack import ACCOUNT, add, edited, remove, set_
from .verdicts import expected, violations

GITHUB = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"
ROLE, TRUST = "prod-ci-role", "aws-iam-role-trust"
AUD, SUB = f"{GITHUB}:aud", f"{GITHUB}:sub"
PINNED = {AUD: "sts.amazonaws.com", SUB: "repo:acme/shop:ref:refs/heads/main"}
NOT_PINNED_SUBJECT = (f"GitHub tokens are not pinned to one repository and branch or environment (StringEquals {SUB} "
                      "repo:<owner>/<name>:ref:refs/heads/<branch>); any matching workflow could deploy")
NOT_PINNED_AUDIENCE = f"GitHub tokens are not pinned to StringEquals {AUD} sts.amazonaws.com"
SERVICE, FIVE_XX, RUNNING = "prod-api-service", "prod-api-alarms-http-5xx-percent", "prod-api-alarms-running-below-desired"
ALARMS, ACTION = "aws-ecs-service-exposed-alarms", "aws-cloudwatch-alarm-has-action"


def deploy_role(principal=PROVIDER, action="sts:AssumeRoleWithWebIdentity", condition=None):
    statement = {"Effect": "Allow", "Principal": {"Federated": principal}, "Action": action,
                 "Condition": condition if condition is not None else {"StringEquals": dict(PINNED)}}
    return add("aws:iam/role:Role", ROLE, {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})})


def equals(**claims):
    """StringEquals with the pinned claims, `aud`/`sub` replaced (None drops one)."""
    values = {**PINNED, **{f"{GITHUB}:{k}": v for k, v in claims.items()}}
    return {"StringEquals": {k: v for k, v in values.items() if v is not None}}


def plain_alarm(name, metric, dimensions, watched):
    """An alarm on one metric of its own (no metric queries), depending on `watched` through its dimensions."""
    return add("aws:cloudwatch/metricAlarm:MetricAlarm", name, {
        "name": name, "namespace": "AWS/ApplicationELB" if metric.startswith("HTTPCode") else "ECS/ContainerInsights", "metricName": metric,
        "statistic": "Sum", "period": 60, "dimensions": dimensions, "comparisonOperator": "GreaterThanThreshold", "threshold": 5,
        "evaluationPeriods": 5, "alarmActions": ["arn:topic"]}, {"dimensions": watched, "alarmActions": ["prod-alarms"]})


PLAIN_RUNNING = plain_alarm("prod-api-running", "RunningTaskCount", {"ClusterName": "prod", "ServiceName": "api"}, ["prod-cluster"])
PLAIN_5XX = plain_alarm("prod-api-5xx", "HTTPCode_Target_5XX_Count", {"LoadBalancer": "app/prod-alb/1", "TargetGroup": "targetgroup/prod-api/1"}, ["prod-alb", "prod-api-tg"])


def trust_case(id_, role, *problems):
    return pytest.param([role], [(TRUST, ROLE, p) for p in problems], id=id_)


def case(id_, edits, *found):
    return pytest.param(edits, list(found), id=id_)


CASES = [
    trust_case("other-provider", deploy_role(principal=f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"),
               f"the trust policy admits Federated arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"),
    trust_case("provider-of-no-account", deploy_role(principal=f"arn:aws:iam::12345:oidc-provider/{GITHUB}"),
               f"the trust policy admits Federated arn:aws:iam::12345:oidc-provider/{GITHUB}"),
    trust_case("provider-with-a-path-after-the-host", deploy_role(principal=f"{PROVIDER}/extra"), f"the trust policy admits Federated {PROVIDER}/extra"),
    trust_case("two-actions", deploy_role(action=["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]),
               "GitHub's provider is trusted for sts:AssumeRoleWithWebIdentity, sts:TagSession; allow sts:AssumeRoleWithWebIdentity only"),
    trust_case("plain-assume-role", deploy_role(action="sts:AssumeRole"),
               "GitHub's provider is trusted for sts:AssumeRole; allow sts:AssumeRoleWithWebIdentity only"),
    trust_case("no-audience", deploy_role(condition=equals(aud=None)), NOT_PINNED_AUDIENCE),
    trust_case("two-audiences", deploy_role(condition=equals(aud=["sts.amazonaws.com", "api://other"])), NOT_PINNED_AUDIENCE),
    trust_case("no-subject", deploy_role(condition=equals(sub=None)), NOT_PINNED_SUBJECT),
    trust_case("a-second-subject-of-every-branch", deploy_role(condition=equals(sub=["repo:acme/shop:ref:refs/heads/main", "repo:acme/shop:ref:refs/heads/*"])),
               NOT_PINNED_SUBJECT),
    trust_case("subject-of-a-pull-request", deploy_role(condition=equals(sub="repo:acme/shop:pull_request")), NOT_PINNED_SUBJECT),
    trust_case("subject-with-a-suffix", deploy_role(condition=equals(sub="repo:acme/shop:ref:refs/heads/main extra")), NOT_PINNED_SUBJECT),
    trust_case("no-condition", deploy_role(condition={}), NOT_PINNED_AUDIENCE, NOT_PINNED_SUBJECT),
    trust_case("string-like-beside-the-pin", deploy_role(condition={**equals(), "StringLike": {SUB: "repo:acme/*"}}),
               "StringLike on GitHub's claims widens the pinned StringEquals; remove it"),
    trust_case("for-any-value-beside-the-pin", deploy_role(condition={**equals(), "ForAnyValue:StringLike": {f"{GITHUB}:job_workflow_ref": "acme/*"}}),
               "ForAnyValue:StringLike on GitHub's claims widens the pinned StringEquals; remove it"),
    # ---- production-tier alarms
    case("5xx-alarm-of-another-metric", [set_(FIVE_XX, "metricQueries.0.metric.metricName", "HTTPCode_Target_4XX_Count")],
         (ALARMS, SERVICE, "no alarm watches its target group's HTTPCode_Target_5XX_Count")),
    case("no-running-alarm", [remove(RUNNING)], (ALARMS, SERVICE, "no alarm watches its RunningTaskCount (running below desired)")),
    case("running-alarm-of-another-cluster", [lambda s: s[RUNNING]["links"].update(metricQueries=[])],
         (ALARMS, SERVICE, "no alarm watches its RunningTaskCount (running below desired)")),
    case("running-query-names-another-metric", [set_(RUNNING, "metricQueries.0.metric.metricName", "CPUUtilization")],
         (ALARMS, SERVICE, "no alarm watches its RunningTaskCount (running below desired)")),
    case("no-alarm-at-all", [remove(RUNNING), remove(FIVE_XX)],
         (ALARMS, SERVICE, "no alarm watches its target group's HTTPCode_Target_5XX_Count"),
         (ALARMS, SERVICE, "no alarm watches its RunningTaskCount (running below desired)")),
    case("plain-running-alarm-of-another-service", [remove(RUNNING), plain_alarm("prod-worker-running", "RunningTaskCount", {"ClusterName": "prod", "ServiceName": "worker"}, ["prod-cluster"])],
         (ALARMS, SERVICE, "no alarm watches its RunningTaskCount (running below desired)")),
    case("plain-running-alarm-without-dimensions", [remove(RUNNING), plain_alarm("prod-api-running", "RunningTaskCount", {}, ["prod-cluster"])],
         (ALARMS, SERVICE, "no alarm watches its RunningTaskCount (running below desired)")),
    case("plain-5xx-alarm-of-the-load-balancer-only", [remove(FIVE_XX), plain_alarm("prod-alb-5xx", "HTTPCode_Target_5XX_Count", {"LoadBalancer": "app/prod-alb/1"}, ["prod-alb"])],
         (ALARMS, SERVICE, "no alarm watches its target group's HTTPCode_Target_5XX_Count")),
    case("alarm-without-action", [set_(RUNNING, "alarmActions", [])], (ACTION, RUNNING, "has no alarm action: when it fires, nobody is told")),
]


@pytest.mark.parametrize("edits, found", CASES)
def test_each_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([deploy_role(principal=f"arn:aws-us-gov:iam::{ACCOUNT}:oidc-provider/{GITHUB}")], id="gov-cloud-provider"),
    pytest.param([deploy_role(action=["sts:AssumeRoleWithWebIdentity"])], id="action-as-a-list"),
    pytest.param([deploy_role(condition=equals(aud=["sts.amazonaws.com"], sub=["repo:acme/shop:ref:refs/heads/main", "repo:acme/shop:environment:prod"]))],
                 id="two-pinned-subjects"),
    pytest.param([deploy_role(condition=equals(sub="repo:acme-corp/shop.web:ref:refs/heads/release/v1.2"))], id="names-with-dots-and-slashes"),
    pytest.param([deploy_role(condition={**equals(), "IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})], id="another-condition-on-another-key"),
    # Alarms on a metric of their own (no metric queries) count as the service's alarms too.
    pytest.param([remove(RUNNING), PLAIN_RUNNING], id="plain-running-alarm"),
    pytest.param([remove(FIVE_XX), PLAIN_5XX], id="plain-5xx-alarm"),
    # An alarm on another metric of its own is judged only for its action.
    pytest.param([add("aws:cloudwatch/metricAlarm:MetricAlarm", "prod-api-latency", {"name": "prod-api-latency", "metricName": "TargetResponseTime", "namespace": "AWS/ApplicationELB",
                                                                                     "comparisonOperator": "GreaterThanThreshold", "threshold": 1, "evaluationPeriods": 5, "alarmActions": ["arn:topic"]})],
                 id="plain-metric-alarm"),
])
def test_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*edits))) == []
