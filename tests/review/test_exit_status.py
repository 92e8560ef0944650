"""Exit statuses of `run.py plan` and `run.py review diff`, through a subprocess as CI runs
them: 0 done, 2 bad input, 3 an unreadable ref or file, 4 a mandatory policy violation
remains (after the full report), 0 again with `--policy report-only`.

A subprocess judges on the real date (configs/clock.py), so these use environments without
waivers: their statuses do not change as days pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from review.exit_status import BLOCKED, DONE, exit_status
from review.verdict import Finding, PolicyResult

ROOT = Path(__file__).resolve().parents[2]
INSECURE = ROOT / "tests" / "fixtures" / "insecure.yaml"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as on a stock runner
    return subprocess.run([sys.executable, "run.py", *args, "--quiet"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project_with_an_insecure_environment(tmp_path_factory) -> Path:
    """A copy of the tracked project (sharing the virtualenv) whose configs/ also holds
    qa.yaml: the insecure fixture under a new environment name, with its Pulumi.qa.yaml."""
    copy = tmp_path_factory.mktemp("project")
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    text = INSECURE.read_text().replace("environment: prod-insecure", "environment: qa")
    (copy / "configs" / "qa.yaml").write_text(text)
    (copy / "Pulumi.qa.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    return copy


@pytest.fixture(scope="module")
def enforced_plan(project_with_an_insecure_environment) -> subprocess.CompletedProcess:
    return run("plan", "qa", cwd=project_with_an_insecure_environment)


def test_plan_with_a_mandatory_violation_prints_the_whole_report_then_exits_4(enforced_plan):
    assert enforced_plan.returncode == 4, enforced_plan.stderr
    assert "Policy verdict: FAIL (" in enforced_plan.stdout
    assert "[mandatory] aws-vpc-flow-logs (qa-network-vpc)" in enforced_plan.stdout
    assert "Diagram (Mermaid" in enforced_plan.stdout  # the report is complete: the diagram comes last


def test_plan_report_only_prints_the_same_report_and_exits_0(project_with_an_insecure_environment, enforced_plan):
    reported = run("plan", "qa", "--policy", "report-only", cwd=project_with_an_insecure_environment)
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout == enforced_plan.stdout


def test_diff_whose_head_violates_exits_4_and_report_only_exits_0():
    args = ("review", "diff", "--files", "configs/staging.yaml", str(INSECURE), "--format", "json")
    enforced, reported = run(*args), run(*args, "--policy", "report-only")
    assert (enforced.returncode, reported.returncode) == (4, 0), enforced.stderr
    assert '"passed": false' in enforced.stdout and enforced.stdout == reported.stdout


def test_diff_that_removes_the_violations_exits_0():
    # Only the head (what would ship) decides: a base that fails does not fail the change.
    result = run("review", "diff", "--files", str(INSECURE), "configs/staging.yaml")
    assert result.returncode == 0, result.stderr
    assert "Policy verdict after the change: PASS (0 mandatory" in result.stdout


def test_without_the_pack_nothing_is_judged_and_the_status_is_0():
    result = run("review", "diff", "--files", "configs/staging.yaml", str(INSECURE), "--no-policy")
    assert result.returncode == 0, result.stderr


def test_bad_input_exits_2_even_with_report_only(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(INSECURE.read_text().replace("cidr: 10.40.0.0/16", "cidr: 10.40.0.1/16"))
    result = run("review", "diff", "--files", "configs/staging.yaml", str(broken), "--policy", "report-only")
    assert result.returncode == 2
    assert "network.cidr" in result.stderr and "Traceback" not in result.stderr


def test_an_unreadable_ref_exits_3():
    result = run("review", "diff", "no-such-ref-anywhere", "dev")
    assert result.returncode == 3
    assert result.stderr.startswith("review: no-such-ref-anywhere is not a commit git knows here")


def test_an_unknown_policy_mode_is_a_usage_error():
    result = run("plan", "dev", "--policy", "lenient")
    assert result.returncode == 2 and "invalid choice: 'lenient'" in result.stderr


# ---- the decision itself -------------------------------------------------------------------

MANDATORY = Finding("aws-vpc-flow-logs", "mandatory", "vpc", "no flow logs")
ADVISORY = Finding("aws-lb-access-logs", "advisory", "alb", "no access logs")
WAIVED = Finding("aws-ecs-service-on-demand-share", "waived", "svc", "waived")


@pytest.mark.parametrize(
    ("findings", "mode", "status"),
    [
        ((), "enforce", DONE),
        ((ADVISORY, WAIVED), "enforce", DONE),
        ((MANDATORY,), "enforce", BLOCKED),
        ((MANDATORY, ADVISORY), "enforce", BLOCKED),
        ((MANDATORY,), "report-only", DONE),
    ],
)
def test_only_a_remaining_mandatory_violation_blocks(findings, mode, status):
    assert exit_status(PolicyResult(findings), policy_mode=mode) == status


def test_no_verdict_blocks_nothing():
    assert exit_status(None) == DONE
