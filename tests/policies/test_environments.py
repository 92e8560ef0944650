"""The real program under mocks (review.offline), judged by the real pack: the reference
environments pass, the deliberately insecure one fails with exactly the expected verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.loader import load_environment
from policies.config_gen import pack_config
from review.offline import run_program
from tests.harness import REFERENCE_ENVIRONMENTS, TODAY, reference_config, reference_plan

INSECURE = Path(__file__).resolve().parents[1] / "fixtures" / "insecure.yaml"


def insecure_config():
    """The insecure fixture plus what the loader refuses before the pack could see it, as a
    program that bypasses the loader would register it: a task role statement on Resource "*",
    a Spot-only strategy, no circuit breaker, min_healthy_percent 50, and plain HTTP (no
    certificate) in the production tier."""
    from configs.model import Statement, StrategyEntry

    config = load_environment(INSECURE, today=TODAY)
    api = config.services["api"]
    deployment = api.deployment.model_copy(update={"min_healthy_percent": 50, "circuit_breaker": False})
    unsafe = api.model_copy(update={
        "permissions": [Statement(actions=["s3:GetObject"], resources=["*"])],
        "capacity": [StrategyEntry(provider="fargate_spot", weight=1)],
        "deployment": deployment,
    })
    load_balancer = config.load_balancer.model_copy(update={"certificate_arn": None})
    return config.model_copy(update={"services": {**config.services, "api": unsafe}, "load_balancer": load_balancer})


def shipped_config(environment: str) -> dict:
    # Generated as `run.py policy-config` does: a new environment need not commit its file.
    return pack_config(reference_config(environment))


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_reference_environments_pass_with_zero_mandatory_violations(pack, environment):
    verdict = pack.verdict(reference_plan(environment).resources, shipped_config(environment))
    assert verdict.mandatory == ()
    assert verdict.violations == ()  # not even advisories: the shipped defaults are the secure ones


def test_prod_needs_no_waiver(pack):
    """The nightly report batch, once a 24/7 Spot service under a waiver, is a scheduled job
    (jobs.reports): the on-demand share rule judges services only, so nothing is waived."""
    verdict = pack.verdict(reference_plan("prod").resources, shipped_config("prod"))
    assert verdict.not_applicable == ()
    assert sorted(r.name for r in reference_plan("prod").of_type("aws:ecs/service:Service")) == ["prod-api-service", "prod-worker-service"]
    assert [r.name for r in reference_plan("prod").of_type("aws:scheduler/schedule:Schedule")] == ["prod-reports-schedule"]


def test_the_insecure_environment_fails_with_the_expected_violations(pack):
    config = insecure_config()
    verdict = pack.verdict(run_program(config).resources, pack_config(config))
    assert verdict.summary() == [
        ("aws-ecs-cluster-container-insights", "mandatory", "prod-insecure-cluster"),
        ("aws-ecs-service-circuit-breaker", "mandatory", "prod-insecure-api-service"),
        ("aws-ecs-service-health-check-grace-period", "mandatory", "prod-insecure-api-service"),
        ("aws-ecs-service-min-healthy-percent", "mandatory", "prod-insecure-api-service"),
        ("aws-ecs-service-on-demand-share", "mandatory", "prod-insecure-api-service"),
        ("aws-ecs-task-definition-read-only-root-filesystem", "mandatory", "prod-insecure-api-task-definition"),
        ("aws-iam-no-wildcard-resources", "mandatory", "prod-insecure-api-task-policy"),
        ("aws-lb-https-only", "mandatory", "prod-insecure-alb"),
        ("aws-lb-https-only", "mandatory", "prod-insecure-alb"),
        ("aws-lb-https-only", "mandatory", "prod-insecure-alb"),
        ("aws-vpc-flow-logs", "mandatory", "prod-insecure-network-vpc"),
    ]
    messages = "\n".join(v.message for v in verdict.violations)
    for fragment in (
        "deploymentMinimumHealthyPercent is 50, below 100",
        "the capacity strategy (FARGATE_SPOT) has no on-demand share",
        "grants Read s3:GetObject on Resource \"*\"",
        "the HTTP listener prod-insecure-alb-http serves traffic instead of redirecting to HTTPS",
    ):
        assert fragment in messages
