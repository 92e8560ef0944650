"""Runs checkov offline over the Terraform-plan JSON of environments and judges its findings
against verify/checkov_allowlist.yaml: every failed check must be allowlisted with a reason.

checkov lives in its own virtualenv (.venv-checkov, created by run.py's
`ensure_checkov_virtualenv`); it is driven as a command line tool, one process for all files,
because its start-up (loading some thousand checks) costs more than the scan.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from configs.governance import tier_name
from configs.model import EnvironmentConfig
from review.offline import DEFAULT_ACCOUNT, Plan, PlatformMocks
from verify.terraform_plan import to_terraform_plan

ALLOWLIST_PATH = Path(__file__).resolve().parent / "checkov_allowlist.yaml"


@dataclass(frozen=True)
class Finding:
    """One check on one resource of one environment's plan."""

    check_id: str
    check_name: str
    resource: str  # the Terraform address: aws_ecs_service.prod-api
    file: str  # the plan file's name: <environment>.tfplan.json
    passed: bool


@dataclass(frozen=True)
class EnvironmentFacts:
    """What an allowlist entry may be scoped by: the environment's governance tier and its
    resolved configuration (never its name, so a new environment is judged by what it is)."""

    tier: str
    config: dict[str, Any]

    def value(self, dotted: str) -> Any:
        value: Any = self.config
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value


@dataclass(frozen=True)
class AllowedFailure:
    check_id: str
    resource: str  # a glob over the Terraform address, or `*`
    reason: str
    tiers: tuple[str, ...] = ()  # empty: every tier
    when: tuple[tuple[str, Any], ...] = ()  # (dotted config path, value) pairs that must all hold
    of: str = ""  # "job": only resources a job of the environment registers (<env>-<job>-...)

    def covers(self, finding: Finding, facts: dict[str, EnvironmentFacts]) -> bool:
        if finding.check_id != self.check_id or not fnmatch.fnmatchcase(finding.resource, self.resource):
            return False
        if not self.tiers and not self.when and not self.of:
            return True
        name = finding.file.removesuffix(PLAN_SUFFIX)
        environment = facts.get(name)
        return environment is not None and (not self.tiers or environment.tier in self.tiers) and all(
            environment.value(path) == value for path, value in self.when) and (
            not self.of or _registered_by(finding.resource, name, environment.value(f"{self.of}s") or {}))


@dataclass(frozen=True)
class Verdict:
    passed: list[Finding]
    allowlisted: list[Finding]
    unexplained: list[Finding]  # failed and not allowlisted: the scan fails
    unused_allowances: list[AllowedFailure]  # stale entries: the allowlist must stay minimal


def mocks_for(config: EnvironmentConfig) -> PlatformMocks:
    """The mocks review.offline.run_program answered the run with (same account and region),
    so the ids and ARNs they computed can be recognised as references."""
    return PlatformMocks(config.aws.account_id or DEFAULT_ACCOUNT, config.aws.region)


PLAN_SUFFIX = ".tfplan.json"


def _registered_by(address: str, environment: str, keys: Any) -> bool:
    """Whether a Terraform address (type.<logical name>) is one a workload of `keys` registers:
    components name their children <env>-<key>-<part>."""
    logical = address.split(".", 1)[-1]
    return any(logical.startswith(f"{environment}-{key}-") for key in keys)


def environment_facts(config: EnvironmentConfig) -> EnvironmentFacts:
    return EnvironmentFacts(tier_name(config.environment), config.model_dump(mode="json"))


def write_plan(plan: Plan, config: EnvironmentConfig, directory: Path) -> Path:
    """<environment>.tfplan.json; the file name tells the environments' findings apart."""
    path = directory / f"{plan.environment}{PLAN_SUFFIX}"
    path.write_text(json.dumps(to_terraform_plan(plan.resources, mocks_for(config)), indent=1, sort_keys=True))
    return path


def run_checkov(checkov: Path, plan_files: list[Path]) -> list[Finding]:
    """checkov's passed and failed checks over the plan files; no network (--skip-download)."""
    command = [str(checkov), "--framework", "terraform_plan", "--skip-download", "--output", "json", "--compact"]
    for path in plan_files:
        command += ["--file", str(path)]
    # checkov exits 1 when a check failed; that is judged against the allowlist, not here.
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {result.returncode}:\n{result.stderr[-4000:]}")
    return parse_report(json.loads(result.stdout))


def parse_report(report: Any) -> list[Finding]:
    """checkov prints one report per framework: an object, or a list when several ran."""
    reports = report if isinstance(report, list) else [report]
    findings: list[Finding] = []
    for one in reports:
        results = one.get("results", {})
        if results.get("parsing_errors"):
            raise RuntimeError(f"checkov could not parse {results['parsing_errors']}")
        findings += [_finding(check, passed=True) for check in results.get("passed_checks", [])]
        findings += [_finding(check, passed=False) for check in results.get("failed_checks", [])]
    return findings


def _finding(check: dict[str, Any], *, passed: bool) -> Finding:
    return Finding(
        check_id=check["check_id"],
        check_name=check.get("check_name") or "",
        resource=check["resource"],
        file=Path(check.get("file_path", "")).name,
        passed=passed,
    )


ENTRY_KEYS = {"check", "resource", "reason"}
SCOPE_KEYS = {"tiers", "when", "of"}


def load_allowlist(path: Path = ALLOWLIST_PATH) -> list[AllowedFailure]:
    entries = yaml.safe_load(path.read_text()) or []
    allowed = []
    for entry in entries:
        if not ENTRY_KEYS <= set(entry) <= ENTRY_KEYS | SCOPE_KEYS or not str(entry["reason"]).strip():
            raise ValueError(f"{path.name}: each entry needs check, resource and a reason (and may scope itself "
                             f"with tiers and when); got {entry}")
        allowed.append(AllowedFailure(entry["check"], entry["resource"], entry["reason"].strip(),
                                      tuple(entry.get("tiers") or ()), tuple((entry.get("when") or {}).items()),
                                      entry.get("of") or ""))
    return allowed


def judge(findings: list[Finding], allowlist: list[AllowedFailure], facts: dict[str, EnvironmentFacts]) -> Verdict:
    failed = [f for f in findings if not f.passed]
    allowlisted = [f for f in failed if any(a.covers(f, facts) for a in allowlist)]
    return Verdict(
        passed=[f for f in findings if f.passed],
        allowlisted=allowlisted,
        unexplained=[f for f in failed if f not in allowlisted],
        unused_allowances=[a for a in allowlist if not any(a.covers(f, facts) for f in failed)],
    )


def describe(findings: Iterable[Finding]) -> str:
    return "\n".join(f"  {f.check_id} {f.resource} ({f.file}): {f.check_name}" for f in findings)
