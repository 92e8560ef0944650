"""Delivery rules through the real pack: the GitHub OIDC deploy role's trust.

Starts from the compliant stack plus one pinned deploy role; each case changes one field."""

from __future__ import annotations

import json

import pytest

from .stack import ACCOUNT, add, edited

GITHUB = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"
ROLE = "prod-ci-role"


def github_trust(**changes) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/shop:ref:refs/heads/main"}},
    }
    statement.update(changes)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def ci_role(trust: str):
    return add("aws:iam/role:Role", ROLE, {"assumeRolePolicy": trust})


def test_a_pinned_github_trust_passes(pack):
    assert pack.verdict(edited(ci_role(github_trust()))).violations == ()


def test_an_environment_subject_passes(pack):
    trust = github_trust(Condition={"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/shop:environment:production"}})
    assert pack.verdict(edited(ci_role(trust))).violations == ()


@pytest.mark.parametrize(
    "trust, fragment",
    [
        (github_trust(Condition={"StringLike": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/*"}}),
         "not pinned to one repository"),
        (github_trust(Condition={"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/shop:*"}}),
         "not pinned to one repository"),
        (github_trust(Condition={"StringEquals": {f"{GITHUB}:sub": "repo:acme/shop:ref:refs/heads/main"}}),
         f"not pinned to StringEquals {GITHUB}:aud sts.amazonaws.com"),
        (github_trust(Condition={"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/shop:ref:refs/heads/main"},
                                 "StringLike": {f"{GITHUB}:sub": "repo:acme/*"}}),
         "StringLike on GitHub's claims widens"),
        (github_trust(Action=["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]), "allow sts:AssumeRoleWithWebIdentity only"),
        (github_trust(Principal={"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"}),
         f"admits Federated arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"),
    ],
    ids=["string-like-owner", "wildcard-branch", "no-audience", "extra-string-like", "extra-action", "other-provider"],
)
def test_a_loose_github_trust_fails_the_trust_rule(pack, trust, fragment):
    verdict = pack.verdict(edited(ci_role(trust)))
    assert set(verdict.summary()) == {("aws-iam-role-trust", "mandatory", ROLE)}
    assert any(fragment in v.message for v in verdict.violations), [v.message for v in verdict.violations]


# ---- production-tier alarms -------------------------------------------------------------------

from .stack import all_mandatory, drop, remove, set_  # noqa: E402

FIVE_XX, RUNNING = "prod-api-alarms-http-5xx-percent", "prod-api-alarms-running-below-desired"


@pytest.mark.parametrize(
    "edits, expected, fragment",
    [
        ([set_(FIVE_XX, "alarmActions", [])], [("aws-cloudwatch-alarm-has-action", FIVE_XX)], "has no alarm action"),
        ([drop(RUNNING, "alarmActions")], [("aws-cloudwatch-alarm-has-action", RUNNING)], "nobody is told"),
        ([remove(FIVE_XX)], [("aws-ecs-service-exposed-alarms", "prod-api-service")], "no alarm watches its target group's HTTPCode_Target_5XX_Count"),
        ([remove(RUNNING)], [("aws-ecs-service-exposed-alarms", "prod-api-service")], "no alarm watches its RunningTaskCount"),
        # An alarm on another service's tasks does not count for api.
        ([set_(RUNNING, "metricQueries.0.metric.dimensions.ServiceName", "worker")], [("aws-ecs-service-exposed-alarms", "prod-api-service")], "RunningTaskCount"),
        # A 5xx alarm on a target group that is not the service's does not count either.
        ([lambda s: s[FIVE_XX]["links"].update(metricQueries=["prod-alb"])], [("aws-ecs-service-exposed-alarms", "prod-api-service")], "5XX"),
    ],
    ids=["no-actions", "actions-absent", "no-5xx-alarm", "no-running-alarm", "running-alarm-of-another-service", "5xx-alarm-of-another-group"],
)
def test_production_alarm_rules(pack, edits, expected, fragment):
    verdict = pack.verdict(edited(*edits))
    assert verdict.summary() == sorted((policy, "mandatory", resource) for policy, resource in expected)
    assert any(fragment in v.message for v in verdict.violations), [v.message for v in verdict.violations]


def test_alarm_rules_apply_to_the_production_tier_only(pack):
    verdict = pack.verdict(edited(remove(FIVE_XX), set_(RUNNING, "alarmActions", [])), all_mandatory(production=False))
    assert verdict.violations == ()


def test_a_service_without_a_load_balancer_needs_no_alarms(pack):
    verdict = pack.verdict(edited(remove(FIVE_XX), remove(RUNNING), set_("prod-api-service", "loadBalancers", [])))
    assert [v.policy for v in verdict.violations if v.policy.startswith("aws-ecs-service-exposed")] == []
