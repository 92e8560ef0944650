"""The production tier's mandatory service and load balancer rules, refused at load with
file:line (configs/tier_checks.py), from the pack's own rules: the circuit breaker, the minimum
healthy percent, an on-demand share and HTTPS. Other tiers, where those rules are advisory or do
not apply, load the same settings; a waiver in governance.yaml lets its service through."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from configs import governance
from configs.loader import load_environment
from configs.tier_checks import on_demand_entry
from policies.registry import RULES_BY_NAME
from tests.configs.cases import TODAY, copy_reference_files, issue_lines, replace_once

TIER = "the production tier (policies/governance.yaml)"
WORKER_DEPLOYMENT = "    deployment: {min_healthy_percent: 100, max_percent: 200}\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    return tmp_path


def prod_issues(workdir: Path, old: str, new: str) -> tuple[int, list[str]]:
    line = replace_once(workdir / "prod.yaml", old, new)
    return line, issue_lines(Path("prod.yaml"), stack="prod")


def test_the_circuit_breaker_off_is_refused_in_production(workdir: Path) -> None:
    line, issues = prod_issues(workdir, WORKER_DEPLOYMENT, "    deployment: {min_healthy_percent: 100, max_percent: 200, circuit_breaker: false}\n")
    assert issues == [
        f"prod.yaml:{line}: services.worker.deployment.circuit_breaker: false is not allowed in {TIER}: "
        "aws-ecs-service-circuit-breaker is mandatory there, since a failing rollout would retry forever; remove the "
        "setting (default true)"
    ]


def test_min_healthy_below_the_pack_option_is_refused_in_production(workdir: Path) -> None:
    # prod's worker has no `expose`: the pack's option for services without a load balancer.
    assert RULES_BY_NAME["aws-ecs-service-min-healthy-percent"].options["unexposedMinHealthyPercent"] == 50
    line, issues = prod_issues(workdir, WORKER_DEPLOYMENT, "    deployment: {min_healthy_percent: 49, max_percent: 200}\n")
    assert issues == [
        f"prod.yaml:{line}: services.worker.deployment.min_healthy_percent: 49 is below the 50 that "
        f"aws-ecs-service-min-healthy-percent requires for a service without a load balancer in {TIER}, since a "
        "rollout would drop serving tasks; use 50 (and max_percent: 200)"
    ]


def test_a_worker_may_keep_half_its_tasks_in_production_as_the_spec_s_worker_does(workdir: Path) -> None:
    replace_once(workdir / "prod.yaml", WORKER_DEPLOYMENT, "    deployment: {min_healthy_percent: 50, max_percent: 200}\n")
    assert load_environment(Path("prod.yaml"), stack="prod", today=TODAY).services["worker"].deployment.min_healthy_percent == 50


def test_an_exposed_service_keeps_every_task_in_production(workdir: Path) -> None:
    assert RULES_BY_NAME["aws-ecs-service-min-healthy-percent"].options["minHealthyPercent"] == 100
    text = (workdir / "prod.yaml").read_text()
    deployment = text.index("\n", text.index("    deployment:", text.index("  api:\n"))) + 1
    line = text.count("\n", 0, deployment) + 1
    (workdir / "prod.yaml").write_text(text[:deployment] + "      min_healthy_percent: 99\n" + text[deployment:])
    issues = issue_lines(Path("prod.yaml"), stack="prod")
    assert issues == [
        f"prod.yaml:{line}: services.api.deployment.min_healthy_percent: 99 is below the 100 that "
        f"aws-ecs-service-min-healthy-percent requires for a service behind the load balancer in {TIER}, since a "
        "rollout would drop serving tasks; use 100 (and max_percent: 200)"
    ]


@pytest.mark.parametrize(
    ("capacity", "providers"),
    [
        ("[{provider: fargate_spot, weight: 1}]", "fargate_spot"),
        ("[{provider: fargate, weight: 1}, {provider: fargate_spot, weight: 3}]", "fargate, fargate_spot"),
        ("[{provider: fargate, base: 0, weight: 1}, {provider: fargate_spot, weight: 1}]", "fargate, fargate_spot"),
    ],
    ids=["spot_only", "fargate_weight_beside_spot", "base_zero"],
)
def test_a_strategy_without_an_on_demand_share_is_refused_in_production(workdir: Path, capacity: str, providers: str) -> None:
    line, issues = prod_issues(workdir, "    capacity: [{provider: general, weight: 1}]\n", f"    capacity: {capacity}\n")
    assert issues == [
        f"prod.yaml:{line}: services.worker.capacity: the capacity strategy of worker ({providers}) has no on-demand "
        f"share, which aws-ecs-service-on-demand-share requires in {TIER}: Spot capacity has no fallback; add "
        "{provider: fargate, base: 1} or an EC2 provider with on_demand_base >= 1"
    ]


def test_an_ec2_provider_all_spot_has_no_on_demand_share(workdir: Path) -> None:
    _, issues = prod_issues(workdir, "        on_demand_base: 1\n        on_demand_percent_above_base: 25\n",
                            "        on_demand_base: 0\n        on_demand_percent_above_base: 0\n")
    text = (workdir / "prod.yaml").read_text()
    line = text[: text.index("    capacity: [{provider: general, weight: 1}]")].count("\n") + 1
    assert issues == [
        f"prod.yaml:{line}: services.worker.capacity: the capacity strategy of worker (general) has no on-demand "
        f"share, which aws-ecs-service-on-demand-share requires in {TIER}: Spot capacity has no fallback; add "
        "{provider: fargate, base: 1} or an EC2 provider with on_demand_base >= 1"
    ]


def test_the_default_strategy_is_blamed_when_the_service_has_none(workdir: Path) -> None:
    replace_once(workdir / "prod.yaml", "    capacity: [{provider: general, weight: 1}]\n", "")
    line, issues = prod_issues(workdir, "    - {provider: fargate, base: 2, weight: 1}\n    - {provider: fargate_spot, weight: 1}\n\nload",
                               "    - {provider: fargate_spot, weight: 1}\n\nload")
    assert issues == [
        f"prod.yaml:{line - 1}: cluster.default_strategy: the capacity strategy of worker (fargate_spot) has no "
        f"on-demand share, which aws-ecs-service-on-demand-share requires in {TIER}: Spot capacity has no fallback; add "
        "{provider: fargate, base: 1} or an EC2 provider with on_demand_base >= 1"
    ]


def test_plain_http_is_refused_in_production(workdir: Path) -> None:
    old = "  certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\n"
    _, issues = prod_issues(workdir, old, "")
    line = (workdir / "prod.yaml").read_text().split("\n").index("load_balancer:") + 1
    assert issues == [
        f"prod.yaml:{line}: load_balancer: the load balancer of api has no certificate_arn, so it would serve plain "
        f"HTTP, which aws-lb-https-only forbids in {TIER}; set load_balancer.certificate_arn (an ACM certificate in "
        "eu-west-1): HTTP then redirects to HTTPS"
    ]


def test_every_problem_is_reported_together(workdir: Path) -> None:
    replace_once(workdir / "prod.yaml", WORKER_DEPLOYMENT, "    deployment: {min_healthy_percent: 40, max_percent: 200, circuit_breaker: false}\n")
    replace_once(workdir / "prod.yaml", "  certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\n", "")
    issues = issue_lines(Path("prod.yaml"), stack="prod")
    assert [issue.split(": ")[1] for issue in issues] == [
        "load_balancer", "services.worker.deployment.circuit_breaker", "services.worker.deployment.min_healthy_percent",
    ]


def test_staging_and_dev_load_the_same_settings(workdir: Path) -> None:
    """Reliability rules are advisory in staging, and the production-only ones do not apply."""
    replace_once(workdir / "staging.yaml", "  worker:\n    desired_count: 1\n",
                 "  worker:\n    desired_count: 1\n    capacity: [{provider: fargate_spot, weight: 1}]\n"
                 "    deployment: {min_healthy_percent: 50, circuit_breaker: false}\n")
    replace_once(workdir / "staging.yaml", "  certificate_arn: arn:aws:acm:eu-west-1:222222222222:certificate/5d3e6c1a-7c1b-4f4e-9a57-2c1d0f0e1b2a\n", "")
    config = load_environment(Path("staging.yaml"), stack="staging", today=TODAY)
    worker = config.services["worker"]
    assert (worker.deployment.circuit_breaker, worker.deployment.min_healthy_percent, config.load_balancer.certificate_arn) == (False, 50, None)
    dev = load_environment(Path("dev.yaml"), stack="dev", today=TODAY)  # Spot-weighted, plain HTTP
    assert dev.load_balancer.certificate_arn is None and dev.cluster.default_strategy[0].provider == "fargate_spot"


def test_a_waiver_lets_its_service_through(workdir: Path) -> None:
    shipped = yaml.safe_load(governance.GOVERNANCE_FILE.read_text())
    waiver = {"environment": "prod", "policy": "aws-ecs-service-on-demand-share", "resource": "service/worker",
              "reason": "tolerates Spot interruption", "expires": TODAY.isoformat(), "approved_by": "security@acme.example"}
    path = workdir / "governance.yaml"
    path.write_text(yaml.safe_dump({**shipped, "waivers": [*shipped["waivers"], waiver]}, sort_keys=False))
    replace_once(workdir / "prod.yaml", "    capacity: [{provider: general, weight: 1}]\n", "    capacity: [{provider: fargate_spot, weight: 1}]\n")
    with governance.using(path):
        config = load_environment(Path("prod.yaml"), stack="prod", today=TODAY)
    assert [e.provider for e in config.strategy_for("worker")] == ["fargate_spot"]


def test_a_strategy_is_on_demand_as_the_pack_judges_it(workdir: Path) -> None:
    config = load_environment(Path("prod.yaml"), stack="prod", today=TODAY)
    api = config.strategy_for("api")  # fargate base 2 beside fargate_spot
    assert [on_demand_entry(config, entry, api) for entry in api] == [True, False]
    worker = config.strategy_for("worker")  # general: on_demand_base 1
    assert [on_demand_entry(config, entry, worker) for entry in worker] == [True]
