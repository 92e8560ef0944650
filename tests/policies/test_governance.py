"""Governance as the pack applies it: waivers by `<kind>/<key>` matched by URN ancestry, the
waiver rule (expiry day, max_waiver_days, approved_by), the one clock (the pack's date moves
only with `--today`, which only tests pass), the config of any environment, and the
date-sensitive parts two years from now."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from configs import clock
from configs.errors import ConfigError
from configs.loader import config_path, load_environment
from policies import clock as pack_clock
from policies import config_gen
from policies.framework import covers, urn_ancestors
from review.policy_verdict import PolicyPackClient
from tests.harness import TODAY, reference_config, reference_plan

ROOT = Path(__file__).resolve().parents[2]
ENV = "urn:pulumi:prod::ecs-platform::"
ENVIRONMENT, SERVICE, TASK = "ecsplatform:index:Environment", "ecsplatform:service:Service", "ecsplatform:task:Task"
LOAD_BALANCER, REGISTRY, CLUSTER = "ecsplatform:load_balancer:LoadBalancer", "ecsplatform:registry:Registry", "ecsplatform:cluster:Cluster"
KEYS = {"service": ("api", "api-admin", "alb"), "repository": ("api", "api-admin"), "provider": ("general",)}
# The waiver prod's reports service had in policies/governance.yaml before the nightly report batch
# became a scheduled job: the waiver tests below judge that service (Spot only) under it.
SHIPPED_EXPIRY = datetime.date(2027, 5, 15)
ON_DEMAND = "aws-ecs-service-on-demand-share"
WAIVER_RULE = "aws-pack-waiver-valid"


# ---- which resources a waiver covers (pure) ---------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "name", "ancestors", "expected"),
    [
        # The shared load balancer is `alb`; a service whose key is alb has the same component name.
        ("service/alb", "prod-alb", [(LOAD_BALANCER, "prod-alb"), (ENVIRONMENT, "prod")], False),
        ("alb", "prod-alb", [(LOAD_BALANCER, "prod-alb"), (ENVIRONMENT, "prod")], True),
        ("service/alb", "prod-alb-service", [(SERVICE, "prod-alb"), (ENVIRONMENT, "prod")], True),
        ("alb", "prod-alb-service", [(SERVICE, "prod-alb"), (ENVIRONMENT, "prod")], False),
        # Stack rules see every ancestor's name; Analyze sees only the parent's.
        ("service/api", "prod-api-task", [(TASK, "prod-api"), (SERVICE, "prod-api"), (ENVIRONMENT, "prod")], True),
        ("service/api", "prod-api-admin-task", [(TASK, "prod-api-admin"), (SERVICE, "prod-api-admin"), (ENVIRONMENT, "prod")], False),
        ("service/api", "prod-api-task", [(TASK, "prod-api"), (SERVICE, None), (ENVIRONMENT, None)], True),
        ("service/api", "prod-api-admin-task", [(TASK, "prod-api-admin"), (SERVICE, None), (ENVIRONMENT, None)], False),
        ("service/api-admin", "prod-api-admin-task", [(TASK, "prod-api-admin"), (SERVICE, None), (ENVIRONMENT, None)], True),
        # A target group the load balancer holds for the api service belongs to the load balancer.
        ("service/api", "prod-alb-tg-api", [(LOAD_BALANCER, "prod-alb"), (ENVIRONMENT, "prod")], False),
        ("repository/api", "prod-registry-api-lifecycle", [(REGISTRY, "prod-registry"), (ENVIRONMENT, "prod")], True),
        ("repository/api", "prod-registry-api-admin", [(REGISTRY, "prod-registry"), (ENVIRONMENT, "prod")], False),
        ("repository/api", "prod-api-sg", [(SERVICE, "prod-api"), (ENVIRONMENT, "prod")], False),
        ("provider/general", "prod-cluster-general-asg", [(CLUSTER, "prod-cluster"), (ENVIRONMENT, "prod")], True),
        ("cluster", "prod-cluster-general-asg", [(CLUSTER, "prod-cluster"), (ENVIRONMENT, "prod")], True),
        ("network", "prod-cluster-general-asg", [(CLUSTER, "prod-cluster"), (ENVIRONMENT, "prod")], False),
        ("environment", "prod-logs-key", [(ENVIRONMENT, "prod")], True),
        ("environment", "prod", [], True),  # a stack-wide finding
        ("environment", "prod-network-vpc", [("ecsplatform:network:Network", "prod-network"), (ENVIRONMENT, "prod")], False),
        ("job/api", "prod-api-task", [(TASK, "prod-api"), (SERVICE, "prod-api"), (ENVIRONMENT, "prod")], False),
    ],
)
def test_a_waiver_covers_what_is_registered_under_its_component(scope, name, ancestors, expected):
    assert covers(scope, name, tuple(ancestors), "prod", KEYS) is expected


def test_an_analyze_request_tells_the_parent_and_the_types_above_it():
    parent = f"{ENV}{ENVIRONMENT}${SERVICE}${TASK}::prod-api"
    assert urn_ancestors(parent) == ((TASK, "prod-api"), (SERVICE, None), (ENVIRONMENT, None))
    assert urn_ancestors("") == ()


# ---- through the pack, with the real prod plan -------------------------------------------------


def prod_config(*waivers: dict) -> dict:
    """The generated prod config, with its waivers replaced (the shipped one included or not)."""
    config = copy.deepcopy(config_gen.pack_config(reference_config("prod")))
    for name, entry in config.items():
        entry["waivers"] = [{k: v for k, v in w.items() if k != "policy"} for w in waivers if w["policy"] == name]
    config[WAIVER_RULE]["allWaivers"] = list(waivers)
    return config


def waiver(policy: str, resource: str, expires: datetime.date = TODAY + datetime.timedelta(days=30), **extra) -> dict:
    return {"policy": policy, "resource": resource, "reason": "a reviewed, temporary exception", "expires": expires.isoformat(), **extra}


def shipped_waiver() -> dict:
    return waiver(ON_DEMAND, "service/reports", SHIPPED_EXPIRY, approvedBy="security@acme.example")


def spot_reports(data: dict) -> None:
    """prod's nightly job `reports` as the Spot-only service it was before it became a job."""
    job = data["jobs"].pop("reports")
    data["services"]["reports"] = {key: job[key] for key in ("image", "cpu", "memory", "user", "capacity")}


@pytest.fixture(scope="module")
def waived_governance(tmp_path_factory) -> Path:
    """policies/governance.yaml with the waiver the reports service had."""
    import yaml

    from configs import governance

    data = yaml.safe_load(governance.GOVERNANCE_FILE.read_text())
    data["waivers"] = [{"environment": "prod", "policy": ON_DEMAND, "resource": "service/reports",
                        "reason": "nightly report batch tolerates Spot interruption and reruns on failure",
                        "expires": SHIPPED_EXPIRY.isoformat(), "approved_by": "security@acme.example"}]
    path = tmp_path_factory.mktemp("governance") / "governance.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def waived_prod(waived_governance):
    """(resources, pack config) of prod with the Spot-only reports service under its waiver."""
    from configs import governance
    from review.offline import run_program
    from tests.harness import edited

    with governance.using(waived_governance):
        config = edited("prod", spot_reports)
        return run_program(config).resources, config_gen.pack_config(config)


def without_deletion_protection() -> list:
    return [dataclasses.replace(r, props={**r.props, "enableDeletionProtection": False}) if r.name == "prod-alb" else r
            for r in reference_plan("prod").resources]


def test_a_service_waiver_never_covers_the_shared_load_balancer(pack):
    rule = "aws-lb-deletion-protection"
    shipped = shipped_waiver()
    as_service = pack.verdict(without_deletion_protection(), prod_config(shipped, waiver(rule, "service/alb")))
    assert as_service.summary() == [(rule, "mandatory", "prod-alb")]
    as_alb = pack.verdict(without_deletion_protection(), prod_config(shipped, waiver(rule, "alb")))
    assert as_alb.violations == ()
    assert (rule, "prod-alb", f"waived for prod-alb until {TODAY + datetime.timedelta(days=30)}: a reviewed, temporary exception") in as_alb.not_applicable


def test_a_waiver_of_a_security_rule_needs_approved_by(pack):
    unapproved = waiver("aws-ecs-service-no-public-ip", "service/api")
    verdict = pack.verdict(reference_plan("prod").resources, prod_config(shipped_waiver(), unapproved))
    assert verdict.summary() == [(WAIVER_RULE, "mandatory", "")]
    assert "the waiver of the security rule aws-ecs-service-no-public-ip for service/api has no approved_by" in verdict.violations[0].message
    approved = waiver("aws-ecs-service-no-public-ip", "service/api", approvedBy="security@acme.example")
    assert pack.verdict(reference_plan("prod").resources, prod_config(shipped_waiver(), approved)).violations == ()


def test_config_generation_refuses_an_unapproved_security_waiver(tmp_path):
    import yaml

    from configs import governance

    data = yaml.safe_load(governance.GOVERNANCE_FILE.read_text())
    data["waivers"] = [{"environment": "prod", "policy": "aws-ecs-service-no-public-ip", "resource": "service/api",
                        "reason": "a reviewed, temporary exception", "expires": TODAY.isoformat()}]
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(data))
    with governance.using(tmp_path / "governance.yaml"), pytest.raises(ConfigError) as error:
        config_gen.pack_config(reference_config("dev"))
    assert [str(i) for i in error.value.issues] == [
        "policies/governance.yaml: waivers[0]: aws-ecs-service-no-public-ip is a security rule: its waiver needs approved_by"
    ]


def test_the_pack_refuses_a_waiver_further_than_max_waiver_days(pack):
    far = waiver(ON_DEMAND, "service/reports", TODAY + datetime.timedelta(days=181), approvedBy="x")
    verdict = pack.verdict(reference_plan("prod").resources, prod_config(far))
    assert verdict.summary() == [(WAIVER_RULE, "mandatory", "")]
    assert f"runs until {TODAY + datetime.timedelta(days=181)}, more than 180 days away" in verdict.violations[0].message


# ---- the one clock ---------------------------------------------------------------------------


def verdict_on(day: datetime.date, resources, config):
    """A pack started on `day` (as tests start it: --today), configured and asked once."""
    with clock.frozen(day), PolicyPackClient(stack="prod") as pack:
        pack.configure(config)
        return pack.analyze(resources)


def test_the_pack_covers_the_expiry_day_and_fails_the_day_after(waived_prod):
    resources, shipped = waived_prod
    on_the_day = verdict_on(SHIPPED_EXPIRY, resources, shipped)
    assert on_the_day.violations == ()
    assert [policy for policy, _, _ in on_the_day.not_applicable] == [ON_DEMAND]
    day_after = verdict_on(SHIPPED_EXPIRY + datetime.timedelta(days=1), resources, shipped)
    assert day_after.summary() == [(ON_DEMAND, "mandatory", "prod-reports-service"), (WAIVER_RULE, "mandatory", "")]
    assert "the waiver of aws-ecs-service-on-demand-share for service/reports expired on 2027-05-15" in day_after.violations[1].message
    assert day_after.not_applicable == ()


def test_a_policy_config_cannot_move_the_date(waived_prod):
    # Whatever a config says about the day, the pack judges on the day it was started with.
    resources, shipped = waived_prod
    revived = {name: {**entry, "today": "2027-01-01", "date": "2027-01-01", "now": "2027-01-01"} for name, entry in shipped.items()}
    verdict = verdict_on(SHIPPED_EXPIRY + datetime.timedelta(days=1), resources, revived)
    assert (WAIVER_RULE, "mandatory", "") in verdict.summary()


def test_only_an_explicit_argument_sets_the_packs_day():
    assert pack_clock.from_arguments([]) is None
    assert pack_clock.from_arguments(["127.0.0.1:1234"]) is None  # what an engine might pass
    assert pack_clock.from_arguments(["--today", "2027-05-16"]) == datetime.date(2027, 5, 16)
    assert pack_clock.from_arguments(["--today=2027-05-16"]) == datetime.date(2027, 5, 16)
    assert PolicyPackClient._clock_arguments() == ["--today", TODAY.isoformat()]
    with clock.frozen(None):
        assert PolicyPackClient._clock_arguments() == []  # commands: the real date


def test_the_date_sensitive_parts_two_years_from_now(waived_governance, waived_prod):
    """The suite judges on a frozen day; here the same parts run two years on, as the suite
    would on a later day without the clock: the shipped environments have no waiver, so
    nothing changes for them; a waiver has expired on both sides."""
    from configs import governance

    later = TODAY + datetime.timedelta(days=730)
    with clock.frozen(later):
        assert load_environment(config_path("prod"), stack="prod").environment == "prod"
        with governance.using(waived_governance), pytest.raises(ConfigError) as refused:
            load_environment(config_path("prod"), stack="prod")
        assert [i.message for i in refused.value.issues] == [
            "the waiver of aws-ecs-service-on-demand-share for service/reports in prod expired on 2027-05-15; "
            "fix the resource or renew the waiver with a new reason"
        ]
        assert load_environment(config_path("dev"), stack="dev").environment == "dev"
    dev = verdict_on(later, reference_plan("dev").resources, config_gen.pack_config(reference_config("dev")))
    assert dev.violations == ()
    prod = verdict_on(later, reference_plan("prod").resources, config_gen.pack_config(reference_config("prod")))
    assert prod.violations == ()
    waived = verdict_on(later, *waived_prod)
    assert waived.summary() == [(ON_DEMAND, "mandatory", "prod-reports-service"), (WAIVER_RULE, "mandatory", "")]


# ---- the config of any environment ---------------------------------------------------------------


def test_the_committed_configs_belong_to_stacks():
    stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml") if (ROOT / "configs" / p.name[len("Pulumi."):]).exists())
    assert config_gen.stack_environments() == stacks
    committed = sorted(p.stem for p in config_gen.CONFIG_DIR.glob("*.json"))
    assert committed and set(committed) <= set(stacks)
    assert config_gen.stale_configs() == []


def test_policy_config_for_a_new_environment(tmp_path):
    """`run.py policy-config ENV` for an environment governance.yaml does not list: production."""
    project = tmp_path / "project"
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    # dev's file, with what the production tier refuses at load made production-grade (retention,
    # access logs, a certificate, an on-demand share); its logs line goes, so KMS comes from the tier alone.
    text = (ROOT / "configs" / "dev.yaml").read_text().replace("environment: dev", "environment: unlisted")
    text = text.replace("logs: {retention_days: 7}\n", "").replace("flow_logs: {retention_days: 14}", "flow_logs: {retention_days: 90}")
    text = text.replace("log_retention_days: 7", "log_retention_days: 90")
    text = text.replace("load_balancer:\n", "load_balancer:\n  access_logs: {bucket: acme-alb-logs}\n"
                        "  certificate_arn: arn:aws:acm:eu-west-1:111111111111:certificate/5d3e6c1a-7c1b-4f4e-9a57-2c1d0f0e1b2a\n")
    text = text.replace("    - {provider: fargate, weight: 1}", "    - {provider: fargate, base: 1, weight: 1}")  # an on-demand share
    (project / "configs" / "unlisted.yaml").write_text(text)
    (project / "Pulumi.unlisted.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    written = subprocess.run([sys.executable, "run.py", "policy-config", "unlisted", "-o", "unlisted.json"], cwd=project, env=env,
                             capture_output=True, text=True, timeout=300)
    assert written.returncode == 0, written.stderr
    unlisted = json.loads((project / "unlisted.json").read_text())
    assert {e["enforcementLevel"] for e in unlisted.values()} == {"mandatory"}
    assert {e["production"] for e in unlisted.values()} == {True}
    assert unlisted["aws-cloudwatch-log-group-kms"]["requireKms"] is True  # the tier's, though dev.yaml's copy says nothing
