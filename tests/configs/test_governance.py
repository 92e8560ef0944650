"""policies/governance.yaml as the loader reads it: the tier decides defaults and what is
mandatory (not the environment's name or its own settings), waivers live there with an
expiry at most max_waiver_days away, and the environment file cannot weaken its judge."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from configs import clock, governance
from configs.errors import ConfigError
from configs.loader import load_environment
from policies.framework import WAIVER_KINDS
from tests.configs.cases import TODAY, copy_reference_files, issue_lines, replace_once

SHIPPED = yaml.safe_load(governance.GOVERNANCE_FILE.read_text())
WAIVER = {
    "environment": "prod", "policy": "aws-ecs-service-on-demand-share", "resource": "service/reports",
    "reason": "nightly batch tolerates Spot interruption", "expires": TODAY.isoformat(),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    return tmp_path


def governance_file(directory: Path, **changes) -> Path:
    """The shipped governance.yaml with top-level keys replaced, written to `directory`."""
    path = directory / "governance.yaml"
    path.write_text(yaml.safe_dump({**SHIPPED, **changes}, sort_keys=False))
    return path


def load(name: str, day: datetime.date = TODAY):
    return load_environment(Path(f"{name}.yaml"), stack=name, today=day)


# ---- tiers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "tier", "protect", "kms"),
    [("dev", "development", False, False), ("staging", "staging", False, False), ("prod", "production", True, True)],
)
def test_the_shipped_environments_are_in_their_tiers(environment, tier, protect, kms):
    config = load_environment(governance.GOVERNANCE_FILE.parents[1] / "configs" / f"{environment}.yaml", stack=environment)
    assert (config.tier, config.is_production, config.protect_resources, config.logs.kms) == (tier, tier == "production", protect, kms)


def test_an_environment_not_listed_is_production_with_its_defaults(workdir):
    # dev's file without its logs line: the production tier fills in protect, KMS and retention.
    text = (workdir / "dev.yaml").read_text().replace("environment: dev", "environment: unlisted").replace("logs: {retention_days: 7}\n", "")
    text = text.replace("flow_logs: {retention_days: 14}", "flow_logs: {retention_days: 90}").replace("log_retention_days: 7", "log_retention_days: 90")
    text = text.replace("load_balancer:\n", "load_balancer:\n  access_logs: {bucket: acme-alb-logs}\n"
                        "  certificate_arn: arn:aws:acm:eu-west-1:111111111111:certificate/5d3e6c1a-7c1b-4f4e-9a57-2c1d0f0e1b2a\n")
    text = text.replace("    - {provider: fargate, weight: 1}", "    - {provider: fargate, base: 1, weight: 1}")
    (workdir / "unlisted.yaml").write_text(text)
    config = load("unlisted")
    assert (config.tier, config.is_production, config.protect_resources, config.logs.kms) == ("production", True, True, True)
    assert (config.load_balancer_deletion_protection, config.logs.retention_days) == (True, 90)


def test_a_production_file_is_refused_what_the_production_rules_would_reject(workdir):
    # dev's file as an unlisted (so production) environment: it would load, then fail the pack.
    (workdir / "unlisted.yaml").write_text((workdir / "dev.yaml").read_text().replace("environment: dev", "environment: unlisted"))
    with pytest.raises(ConfigError) as refused:
        load("unlisted")
    tier = "the production tier (policies/governance.yaml)"
    floor = f"below the 90 that aws-cloudwatch-log-group-retention requires in {tier}; keep logs at least 90 days"
    assert [(issue.path, issue.message) for issue in refused.value.issues] == [
        ("logs.retention_days", f"7 days is {floor}"),
        ("network.flow_logs.retention_days", f"14 days is {floor}"),
        ("cluster.exec.log_retention_days", f"7 days is {floor}"),
        # dev's Spot-weighted default strategy without a base, and plain HTTP (configs/tier_checks.py)
        ("cluster.default_strategy", f"the capacity strategy of api, worker (fargate_spot, fargate) has no on-demand share, "
                                     f"which aws-ecs-service-on-demand-share requires in {tier}: Spot capacity has no fallback; "
                                     "add {provider: fargate, base: 1} or an EC2 provider with on_demand_base >= 1"),
        ("load_balancer", f"the load balancer of api has no access_logs; aws-lb-access-logs is mandatory in {tier}: "
                          "set load_balancer.access_logs.bucket (a bucket with the ELB log-delivery policy)"),
        ("load_balancer", f"the load balancer of api has no certificate_arn, so it would serve plain HTTP, which "
                          f"aws-lb-https-only forbids in {tier}; set load_balancer.certificate_arn (an ACM certificate in "
                          "eu-west-1): HTTP then redirects to HTTPS"),
    ]


def test_the_tier_not_the_name_decides(workdir):
    path = governance_file(workdir, environments={**SHIPPED["environments"], "prod": {"tier": "staging"}})
    with governance.using(path):
        config = load("prod")
        assert (config.tier, config.is_production, config.protect_resources, config.logs.kms) == ("staging", False, False, True)


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("logs: {retention_days: 90, kms: true}", "logs: {retention_days: 90, kms: false}", "logs.kms"),
        ("environment: prod\n", "environment: prod\nprotect: false\n", "protect"),
        ("  deletion_protection: true", "  deletion_protection: false", "load_balancer.deletion_protection"),
    ],
)
def test_production_refuses_settings_that_weaken_a_mandatory_rule(workdir, old, new, path):
    line = replace_once(workdir / "prod.yaml", old, new)
    rule = "aws-cloudwatch-log-group-kms" if path == "logs.kms" else "aws-lb-deletion-protection"
    found = [issue for issue in issue_lines(Path("prod.yaml"), stack="prod") if "tier" in issue]
    assert found == [
        f"prod.yaml:{line + (1 if path == 'protect' else 0)}: {path}: false is not allowed in the production tier "
        f"(policies/governance.yaml): {rule} is mandatory there; remove the setting (the tier turns it on)"
    ]


def test_development_may_turn_them_off(workdir):
    replace_once(workdir / "dev.yaml", "environment: dev\n", "environment: dev\nprotect: false\n")
    replace_once(workdir / "dev.yaml", "logs: {retention_days: 7}", "logs: {retention_days: 7, kms: false}")
    config = load("dev")
    assert (config.protect_resources, config.logs.kms) == (False, False)


def test_a_broken_governance_file_is_reported_at_its_lines(workdir):
    path = governance_file(workdir, default_tier="prod", waivers=[{**WAIVER, "resource": "alb/shared"}])
    with governance.using(path):
        with pytest.raises(ConfigError) as error:
            load("dev")
    text = path.read_text().splitlines()
    tier_line = text.index("default_tier: prod") + 1
    resource_line = next(i for i, t in enumerate(text, 1) if "resource: alb/shared" in t)
    assert [str(i) for i in error.value.issues] == [
        f"{path}:{tier_line}: default_tier: Input should be 'production', 'staging' or 'development' (got 'prod')",
        f"{path}:{resource_line}: waivers[0].resource: 'alb/shared' is not a waiver scope; use <kind>/<key> "
        "(service, job, repository, provider) or one of alb, network, cluster, registry, environment",
    ]


@pytest.mark.parametrize("scope", ["service/api", "job/nightly", "repository/api", "provider/general", "alb", "network",
                                   "cluster", "registry", "environment", "service/alb"])
def test_waiver_scopes_name_a_kind_and_a_key(scope):
    assert governance.Waiver.model_validate({**WAIVER, "resource": scope}).resource == scope


@pytest.mark.parametrize("scope", ["api", "prod-api-service", "services/api", "alb/alb", "service/", "service/API"])
def test_other_waiver_scopes_are_refused(scope):
    with pytest.raises(ValueError):
        governance.Waiver.model_validate({**WAIVER, "resource": scope})


def test_the_loader_and_the_pack_know_the_same_waiver_kinds():
    assert set(governance.KEYED_KINDS) | set(governance.SHARED_KINDS) == set(WAIVER_KINDS)


# ---- waivers and the clock -------------------------------------------------------------------


def waiver_lines(path: Path) -> tuple[int, int]:
    text = path.read_text().splitlines()
    first = next(i for i, t in enumerate(text, 1) if t.startswith("- environment: prod"))
    expires = next(i for i, t in enumerate(text, 1) if i > first and "expires:" in t)
    return first, expires


def test_a_waiver_covers_its_expiry_day_and_fails_the_day_after(workdir):
    path = governance_file(workdir, waivers=[WAIVER])
    _, line = waiver_lines(path)
    with governance.using(path):
        assert load("prod", TODAY).environment == "prod"  # expires == today: still valid
        with pytest.raises(ConfigError) as error:
            load("prod", TODAY + datetime.timedelta(days=1))
    assert [str(i) for i in error.value.issues] == [
        f"{path}:{line}: waivers[0].expires: the waiver of aws-ecs-service-on-demand-share for service/reports in prod "
        f"expired on {TODAY}; fix the resource or renew the waiver with a new reason"
    ]


def test_a_waiver_may_run_max_waiver_days_and_not_one_more(workdir):
    longest = TODAY + datetime.timedelta(days=SHIPPED["max_waiver_days"])
    path = governance_file(workdir, waivers=[{**WAIVER, "expires": longest.isoformat()}])
    with governance.using(path):
        assert load("prod").environment == "prod"
    path = governance_file(workdir, waivers=[{**WAIVER, "expires": (longest + datetime.timedelta(days=1)).isoformat()}])
    _, line = waiver_lines(path)
    with governance.using(path), pytest.raises(ConfigError) as error:
        load("prod")
    assert [str(i) for i in error.value.issues] == [
        f"{path}:{line}: waivers[0].expires: {longest + datetime.timedelta(days=1)} is 181 days away, more than "
        f"max_waiver_days (180); choose an expiry by {longest}"
    ]


def test_a_waiver_only_concerns_its_own_environment(workdir):
    path = governance_file(workdir, waivers=[{**WAIVER, "expires": "2020-01-01"}])
    with governance.using(path):
        assert load("dev").environment == "dev"
        with pytest.raises(ConfigError):
            load("prod")


def test_a_waiver_twice_is_refused(workdir):
    path = governance_file(workdir, waivers=[WAIVER, WAIVER])
    with governance.using(path), pytest.raises(ConfigError) as error:
        load("prod")
    assert [i.message for i in error.value.issues] == [
        "aws-ecs-service-on-demand-share is already waived for service/reports in waivers[0]; keep one"
    ]


def test_the_loader_judges_on_the_clock_which_only_tests_move(workdir):
    # Without `today`, the loader asks configs/clock.py: the real date for commands, the
    # frozen day in tests (tests/conftest.py).
    path = governance_file(workdir, waivers=[WAIVER])
    assert clock.frozen_day() == TODAY
    with governance.using(path):
        assert load_environment(Path("prod.yaml"), stack="prod").environment == "prod"
        with clock.frozen(TODAY + datetime.timedelta(days=1)), pytest.raises(ConfigError):
            load_environment(Path("prod.yaml"), stack="prod")
    assert clock.frozen_day() == TODAY
