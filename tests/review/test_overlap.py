"""The pack's process is spawned before the program runs (its start-up overlaps the program)
and judges each resource as it is registered: the verdict is the one a pack asked after the
program gives, and a failing program leaves no pack."""

from __future__ import annotations

import pytest

from review import workflow
from review.policy_verdict import PolicyPackClient
from review.verdict import policy_results
from tests.harness import reference_config, reference_plan


def test_a_pack_spawned_before_the_program_gives_the_same_verdict():
    config = reference_config("dev")
    plans, (verdict,) = workflow._plans_and_policies([config], True, workflow.QUIET)
    assert sorted(r.urn for r in plans[0].resources) == sorted(r.urn for r in reference_plan("dev").resources)
    assert verdict == policy_results([(config, reference_plan("dev"))])[0]


def test_a_failing_program_closes_the_spawned_pack(monkeypatch):
    spawned: list[PolicyPackClient] = []
    original = PolicyPackClient.spawn

    def spawn(self):
        spawned.append(self)
        return original(self)

    def fail(config, *, on_register):
        for resource in reference_plan("dev").resources[:5]:
            on_register(resource)
        raise RuntimeError("the program failed")

    monkeypatch.setattr(PolicyPackClient, "spawn", spawn)
    monkeypatch.setattr(workflow, "run_program", fail)
    with pytest.raises(RuntimeError, match="the program failed"):
        workflow._plans_and_policies([reference_config("dev")], True, workflow.QUIET)
    (pack,) = spawned
    assert pack._process.poll() is not None  # terminated, not left running
