"""checkov, an independent rule set written for Terraform, over the reference environments.

Every failed check must be in verify/checkov_allowlist.yaml with its reason, and every entry
there must still match a failure. .venv-checkov is created here if missing, through the same
function `python3 run.py test` uses, so the scan never silently does not happen.
"""

from __future__ import annotations

import pytest

import run as bootstrap
from tests.harness import REFERENCE_ENVIRONMENTS, reference_config, reference_plan
from verify.checkov_scan import describe, environment_facts, judge, load_allowlist, run_checkov, write_plan


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    checkov = bootstrap.ensure_checkov_virtualenv()
    directory = tmp_path_factory.mktemp("tfplan")
    files = [write_plan(reference_plan(e), reference_config(e), directory) for e in REFERENCE_ENVIRONMENTS]
    findings = run_checkov(checkov, files)
    facts = {e: environment_facts(reference_config(e)) for e in REFERENCE_ENVIRONMENTS}
    return findings, judge(findings, load_allowlist(), facts)


def test_every_failed_check_is_allowlisted_with_a_reason(scan):
    _, verdict = scan
    assert verdict.unexplained == [], "failed checks not in verify/checkov_allowlist.yaml:\n" + describe(verdict.unexplained)


def test_every_allowlist_entry_still_matches_a_failure(scan):
    _, verdict = scan
    assert verdict.unused_allowances == []


def test_checkov_judged_every_reference_environment(scan):
    findings, _ = scan
    assert sorted({f.file for f in findings}) == sorted(f"{e}.tfplan.json" for e in REFERENCE_ENVIRONMENTS)


@pytest.mark.parametrize(
    "check_id",
    [
        "CKV_AWS_336",  # ECS containers have a read-only root filesystem
        "CKV_AWS_97",  # ECS task definitions encrypt EFS volumes in transit (none, so passes)
        "CKV_AWS_136",  # ECR repositories are encrypted with KMS
        "CKV2_AWS_11",  # every VPC has flow logs (a graph check: needs the references)
        "CKV2_AWS_12",  # the default security group restricts all traffic (graph check)
    ],
)
def test_the_security_defaults_are_among_the_passed_checks(scan, check_id):
    # Guards the conversion: a renamed attribute would make checkov skip or fail these.
    findings, _ = scan
    assert {f.file for f in findings if f.check_id == check_id and f.passed} == {
        f"{e}.tfplan.json" for e in REFERENCE_ENVIRONMENTS
    }
