"""Edges of the pack's own waiver rule (policies/waivers.py), on the suite's fixed day
(tests/harness.py TODAY, 2026-11-26): the expiry day itself and the day after, the
maxWaiverDays limit and the day beyond it, approved_by for security rules only, and every
message whole."""

from __future__ import annotations

import datetime

import pytest

from tests.harness import TODAY

from .verdicts import problems
from .stack import edited
from .test_config import BREAKER_OFF, waived_config, waiver

VALID = "aws-pack-waiver-valid"
SECURITY_RULE = "aws-ecs-service-no-public-ip"


def day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def verdict_of(pack, *waivers, edits=(BREAKER_OFF,)):
    return problems(pack.verdict(edited(*edits), waived_config(*waivers)))


@pytest.mark.parametrize("offset", [0, 1, 180])
def test_a_waiver_from_today_to_max_waiver_days_is_valid(pack, offset):
    assert verdict_of(pack, waiver("service/api", expires=day(offset))) == []


def test_the_day_after_expiry_the_waiver_fails(pack):
    assert verdict_of(pack, waiver("service/api", expires=day(-1))) == sorted([
        ("aws-ecs-service-circuit-breaker", "prod-api-service", "the deployment circuit breaker with rollback is off, so a failing rollout retries forever"),
        (VALID, "", f"the waiver of aws-ecs-service-circuit-breaker for service/api expired on {day(-1)}"),
    ])


def test_one_day_beyond_max_waiver_days_fails(pack):
    assert verdict_of(pack, waiver("service/api", expires=day(181))) == [
        (VALID, "", f"the waiver of aws-ecs-service-circuit-breaker for service/api runs until {day(181)}, more than 180 days away")]


def test_a_waiver_of_an_unknown_policy(pack):
    assert verdict_of(pack, waiver("service/api", policy="aws-ecs-service-made-up"), edits=()) == [
        (VALID, "", "the waiver names aws-ecs-service-made-up, which is not a policy of this pack")]


def test_a_security_waiver_needs_approved_by(pack):
    assert verdict_of(pack, waiver("service/api", policy=SECURITY_RULE), edits=()) == [
        (VALID, "", f"the waiver of the security rule {SECURITY_RULE} for service/api has no approved_by")]
    assert verdict_of(pack, {**waiver("service/api", policy=SECURITY_RULE), "approvedBy": "security@acme"}, edits=()) == []


def test_a_waiver_without_a_policy_says_so(pack):
    nameless = {key: value for key, value in waiver("service/api").items() if key != "policy"}
    config = waived_config(waiver("service/api", expires=day(30)))
    config[VALID]["allWaivers"].append(nameless)
    assert problems(pack.verdict(edited(BREAKER_OFF), config)) == [(VALID, "", "the waiver for service/api names no policy")]
