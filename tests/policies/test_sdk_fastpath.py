"""policies/sdk_fastpath.py changes only how fast the pack answers, never what it answers.

Two pack processes, one with the fast path (the default) and one with it disabled
(ECS_POLICY_SDK_FASTPATH=0, i.e. pulumi-policy exactly as published), judge the same stacks
under the same configs: every rule's failing case, waivers, preview-time unknowns, advisory
and disabled levels, and the reference plans. Verdicts (violations with their messages,
levels and URNs, in order, and not-applicable reasons) must be identical."""

from __future__ import annotations

import copy
import os

import pytest

from policies import sdk_fastpath
from review.policy_verdict import PolicyPackClient

from .stack import UNKNOWN, all_mandatory, compliant_stack, drop, edited, set_, to_resources
from .test_config import BREAKER_OFF, SERVICE, waived_config, waiver
from .test_rules import CASES


@pytest.fixture(scope="module")
def packs():
    """(fast, unpatched) pack clients."""
    previous = os.environ.get(sdk_fastpath.DISABLE_ENV)
    os.environ[sdk_fastpath.DISABLE_ENV] = "0"
    try:
        unpatched = PolicyPackClient().start()
    finally:
        if previous is None:
            del os.environ[sdk_fastpath.DISABLE_ENV]
        else:
            os.environ[sdk_fastpath.DISABLE_ENV] = previous
    fast = PolicyPackClient().start()
    try:
        yield fast, unpatched
    finally:
        fast.close()
        unpatched.close()


def both(packs, resources, config=None):
    config = config if config is not None else all_mandatory()
    verdicts = []
    for client in packs:
        client.configure(config)
        verdicts.append(client.analyze(resources))
    return verdicts


def everything_unknown(value):
    if isinstance(value, dict):
        return {k: everything_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [everything_unknown(v) for v in value]
    return UNKNOWN


def unknown_stack(depth: str):
    stack = compliant_stack()
    for resource in stack.values():
        props = resource["props"]
        resource["props"] = {k: UNKNOWN for k in props} if depth == "top-level" else everything_unknown(props)
    return to_resources(stack)


def test_the_installed_sdk_is_the_one_the_fast_path_was_written_for():
    # Otherwise install() falls back to the unpatched SDK and this module compares it to itself.
    assert sdk_fastpath._incompatibility() is None
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    assert sdk_fastpath._source_sha256(_PolicyAnalyzerServicer.AnalyzeStack) in sdk_fastpath._ANALYZE_STACK_SHA256


@pytest.mark.parametrize("edits, expected, fragment", CASES)
def test_every_rule_case_gets_the_same_verdict(packs, edits, expected, fragment):
    fast, unpatched = both(packs, edited(*edits))
    assert fast.violations  # each case fails something: the comparison is not vacuous
    assert fast == unpatched


SCENARIOS = {
    "compliant": lambda: (edited(), all_mandatory()),
    "advisory-and-disabled": lambda: (
        edited(BREAKER_OFF, drop("prod-exec-logs", "retentionInDays")),
        all_mandatory(**{"aws-ecs-service-circuit-breaker": {"enforcementLevel": "advisory"},
                         "aws-cloudwatch-log-group-retention": {"enforcementLevel": "disabled"}}),
    ),
    "not-production": lambda: (edited(BREAKER_OFF), all_mandatory(production=False)),
    "waived": lambda: (edited(BREAKER_OFF), waived_config(waiver(SERVICE))),
    "expired-waiver": lambda: (edited(BREAKER_OFF), waived_config(waiver(SERVICE, expires="2001-01-01"))),
    "unknown-value": lambda: (edited(set_(SERVICE, "networkConfiguration.assignPublicIp", UNKNOWN)), all_mandatory()),
    "unknown-document": lambda: (edited(set_("prod-api-task", "containerDefinitions", UNKNOWN)), all_mandatory()),
    "unknown-top-level": lambda: (unknown_stack("top-level"), all_mandatory()),
    "unknown-leaves": lambda: (unknown_stack("leaves"), all_mandatory()),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_levels_waivers_and_unknowns_get_the_same_verdict(packs, scenario):
    resources, config = SCENARIOS[scenario]()
    fast, unpatched = both(packs, resources, copy.deepcopy(config))
    assert fast == unpatched


@pytest.mark.parametrize("environment", ["dev", "staging", "prod", "insecure"])
def test_the_reference_plans_get_the_same_verdict(packs, environment):
    from policies.config_gen import pack_config
    from review.offline import run_program
    from tests.harness import reference_plan

    from .test_environments import insecure_config, shipped_config

    if environment == "insecure":
        config = insecure_config()
        resources, pack = run_program(config).resources, pack_config(config)
    else:
        resources, pack = reference_plan(environment).resources, shipped_config(environment)
    fast, unpatched = both(packs, resources, pack)
    assert fast == unpatched
