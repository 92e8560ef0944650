"""The program's turns of the SDK's event loop between services (components/environment.py,
let_registrations_run) change when resources register, never what registers: the same
resources, inputs, parents and dependencies as a program that registers everything at its end.

A real turn lets registrations advance as far as 100 iterations of the loop take them, which
depends on the mocks' executor threads. The equivalence is therefore judged with the most a
turn could ever do, deterministically: a turn after every service that lets every queued
registration finish (the SDK's own wait_for_rpcs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

import components.environment as environment
from bench.bench_plan import environment_data, service_key
from review.offline import CapturedResource, Plan, run_program
from configs.loader import load_environment
from tests.harness import REFERENCE_ENVIRONMENTS, TODAY, config_from_data, reference_config

# The environment spec's full example (shared/spec/environment-config.md): EFS, Service Connect,
# a native blue/green deployment, queue scaling, schedules, alarms, jobs.
SPEC_EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "spec-example.yaml"

COMMAND = "command:local:Command"
ECS_SERVICE = "aws:ecs/service:Service"
SERVICES = 2 * environment.SERVICES_PER_TURN + 1  # two turns, then one service more


def registration(resource: CapturedResource) -> tuple[Any, ...]:
    """What the engine is told about a resource, with the dependency lists in a fixed order
    (the SDK gathers them from sets)."""
    return (
        resource.type,
        resource.parent,
        resource.custom,
        resource.props,
        resource.secret_paths,
        sorted(resource.depends_on),
        {key: sorted(urns) for key, urns in resource.property_dependencies.items()},
        resource.protect,
        resource.ignore_changes,
        resource.delete_before_replace,
        resource.aliases,
        resource.custom_timeouts,
    )


def registrations(plan: Plan) -> dict[str, tuple[Any, ...]]:
    return {resource.urn: registration(resource) for resource in plan.resources}


def without_turns(monkeypatch: pytest.MonkeyPatch, config) -> Plan:
    with monkeypatch.context() as patched:
        patched.setattr(environment, "let_registrations_run", lambda: None)
        return run_program(config)


def draining_turn() -> None:
    """What a turn may do at most: every registration queued so far reaches the monitor."""
    _sync_await(wait_for_rpcs(await_all_outstanding_tasks=False))


def with_draining_turns(monkeypatch: pytest.MonkeyPatch, config) -> tuple[Plan, int]:
    """The program with a draining turn after every service; the plan and how many turns."""
    turns = []
    with monkeypatch.context() as patched:
        patched.setattr(environment, "SERVICES_PER_TURN", 1)
        patched.setattr(environment, "let_registrations_run", lambda: turns.append(draining_turn()))
        return run_program(config), len(turns)


def counted_turns(monkeypatch: pytest.MonkeyPatch, config) -> tuple[Plan, int]:
    turns = []
    real = environment.let_registrations_run
    with monkeypatch.context() as patched:
        patched.setattr(environment, "let_registrations_run", lambda: turns.append(real()))
        return run_program(config), len(turns)


def generated(services: int, before: tuple[str, ...] = ()) -> Any:
    """bench/bench_plan.py's environment; with `before`, a migration job those services roll out after."""
    data = environment_data(services)
    if before:
        data["deploys"] = "pulumi"
        data["jobs"] = {
            "migrate": {
                "image": {"repository": "repo-0", "tag": "v1.0.0"},
                "user": "10001",
                "command": ["./migrate"],
                "timeout_minutes": 15,
                "before": list(before),
            }
        }
    return config_from_data(data)


@pytest.mark.parametrize("name", [*REFERENCE_ENVIRONMENTS, "spec-example"])
def test_reference_environments_register_the_same_with_and_without_turns(monkeypatch, name):
    config = load_environment(SPEC_EXAMPLE, stack="prod", today=TODAY) if name == "spec-example" else reference_config(name)
    plan, turns = with_draining_turns(monkeypatch, config)
    assert turns == len([key for key in config.services if not any(key in job.before for job in config.jobs.values())])
    assert registrations(plan) == registrations(without_turns(monkeypatch, config))


def test_a_real_turn_follows_every_eighth_service(monkeypatch):
    config = generated(SERVICES)
    plan, turns = counted_turns(monkeypatch, config)
    assert turns == 2
    assert registrations(plan) == registrations(without_turns(monkeypatch, config))


@pytest.mark.parametrize("index", [0, environment.SERVICES_PER_TURN + 1, SERVICES - 1])
def test_a_service_that_waits_for_a_before_job_is_built_after_the_last_turn(monkeypatch, index):
    """It rolls out after the job's run, which is created after every service: a turn after it
    would register its ECS service without that dependency. The others keep their turns."""
    waiting = service_key(index)
    config = generated(SERVICES, before=(waiting,))
    plan, turns = with_draining_turns(monkeypatch, config)
    assert turns == SERVICES - 1
    run = plan.named("bench-migrate-before", COMMAND)
    assert [s.name for s in plan.of_type(ECS_SERVICE) if run.urn in s.depends_on] == [f"bench-{waiting}-service"]
    assert registrations(plan) == registrations(without_turns(monkeypatch, config))
