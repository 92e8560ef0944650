"""`run.py import copilot`: one fixture workspace per Copilot workload type (written from the
samples in Copilot's manifest reference, each file says which), imported into a copy of the
project; the written files match their goldens, and each environment plans with the real
program and passes the policy pack (`run.py plan <env>` exits 0)."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "copilot"
GOLDEN = Path(__file__).resolve().parent / "golden"
ACCOUNT, REGION = "123456789012", "eu-west-1"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:shop-cost-analyzer-events"
KINDS = ("web", "backend", "worker", "job")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "UPDATE_GOLDEN")}
    return subprocess.run([sys.executable, "run.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)


def project_copy(target: Path) -> Path:
    """The tracked project, with the virtualenv linked, and no environments of its own."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, names.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    for stack in target.glob("Pulumi.*.yaml"):  # the shipped examples make way for the import's
        environment = stack.name.split(".")[1]
        for path in (target / "configs" / f"{environment}.yaml", target / "configs" / "usage" / f"{environment}.yaml", stack):
            path.unlink(missing_ok=True)
    return target


def import_args(kind: str, *extra: str) -> list[str]:
    return ["import", "copilot", str(FIXTURES / kind), "--account", ACCOUNT, "--region", REGION, "--tag", "v1.0.0",
            "--tier", "test=development", *(["--queue", f"cost-analyzer={QUEUE}"] if kind == "worker" else []), *extra]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """kind -> (project copy, the import's result)."""
    results = {}
    for kind in KINDS:
        project = project_copy(tmp_path_factory.mktemp(kind))
        results[kind] = (project, run(import_args(kind), project))
    return results


def golden_mismatch(name: str, text: str) -> str:
    """'' when `text` equals the golden file; else its diff. UPDATE_GOLDEN=1 (never under CI)
    rewrites the file and still reports the diff, so the test fails until a human re-runs it."""
    path = GOLDEN / name
    expected = path.read_text() if path.exists() else ""
    if text == expected:
        return ""
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), f"a/{name}", f"b/{name}"))
    if os.environ.get("UPDATE_GOLDEN") == "1" and not os.environ.get("CI"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return f"rewritten (UPDATE_GOLDEN=1), review it:\n{diff}"
    return diff


@pytest.mark.parametrize("kind", KINDS)
def test_the_written_files_and_the_report_match_their_goldens(imported, kind):
    project, result = imported[kind]
    assert result.returncode == 0, result.stderr
    outputs = {"report.txt": result.stdout}
    for name in ("configs/test.yaml", "configs/prod.yaml", "Pulumi.test.yaml", "Pulumi.prod.yaml"):
        outputs[name.replace("/", "-")] = (project / name).read_text()
    mismatches = {name: golden_mismatch(f"{kind}/{name}", text) for name, text in outputs.items()}
    assert {name: diff for name, diff in mismatches.items() if diff} == {}
    tiers = [line.strip() for line in (project / "policies" / "governance.yaml").read_text().splitlines()
             if line.strip().startswith(("test:", "prod:"))]
    assert sorted(tiers) == ["prod: {tier: production}", "test: {tier: development}"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("environment", ["test", "prod"])
def test_each_imported_environment_plans_and_passes_the_policy_pack(imported, kind, environment):
    project, _ = imported[kind]
    result = run(["plan", environment, "--quiet"], project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Policy verdict: PASS" in result.stdout


def test_existing_files_are_kept_unless_forced(imported):
    project, _ = imported["worker"]
    again = run(import_args("worker"), project)
    assert again.returncode == 2
    assert again.stderr.splitlines()[:5] == [
        "import: these exist already (pass --force to overwrite):",
        "  Pulumi.prod.yaml",
        "  Pulumi.test.yaml",
        "  configs/prod.yaml",
        "  configs/test.yaml",
    ]
    forced = run(import_args("worker", "--force"), project)
    assert forced.returncode == 0, forced.stderr


def test_an_unknown_manifest_type_is_refused_with_file_and_line(tmp_path):
    workspace = tmp_path / "app"
    shutil.copytree(FIXTURES / "backend", workspace)
    manifest = workspace / "copilot" / "api" / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("type: Backend Service", "type: Batch Service"))
    result = run(["import", "copilot", str(workspace), "--account", ACCOUNT, "--region", REGION, "--into", str(tmp_path)], ROOT)
    assert result.returncode == 2
    assert result.stderr == (
        "import: copilot/api/manifest.yml:4: type: unknown manifest type 'Batch Service'; Copilot's types are "
        "'Load Balanced Web Service', 'Backend Service', 'Worker Service', 'Scheduled Job', "
        "'Request-Driven Web Service', 'Static Site'\n"
    )
    assert not (tmp_path / "configs").exists()


def test_account_and_region_are_required_and_checked(tmp_path):
    result = run(["import", "copilot", str(FIXTURES / "web"), "--account", "12345", "--region", REGION], ROOT)
    assert result.returncode == 2 and "--account '12345' is not a 12-digit account id" in result.stderr
    result = run(["import", "copilot", str(FIXTURES / "web"), "--region", REGION], ROOT)
    assert result.returncode == 2 and "the following arguments are required: --account" in result.stderr
