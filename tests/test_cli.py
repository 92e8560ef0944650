"""The command line end to end, as a user and CI run it: the README's first command, a change
outside configs/ that the pack blocks, and `review diff` through git (review/sources.py, the
`extends` chain at a ref) in a temporary copy of the repository. The other exit statuses are
in tests/review/test_exit_status.py.

Every subprocess runs without PYTHONUNBUFFERED, as on a stock laptop or GitHub runner (the
policy pack's port line once stayed in a pipe buffer there and the plan hung forever), and
with a timeout, so a hang fails the test instead of the whole run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
TIMEOUT = 180  # seconds; a plan takes a few


def stock_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "UPDATE_GOLDEN")}
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, env=stock_environment(**extra), capture_output=True, text=True, timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def review(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m review ...` in `repo` (a copy of the project), with the project's virtualenv."""
    return run([str(VENV_PYTHON), "-m", "review", *args, "--quiet"], repo, PYTHONPATH=str(repo))


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git repository holding the project's tracked files, committed once as `base`."""
    target = tmp_path_factory.mktemp("repo")
    for name in git(ROOT, "ls-files", "-z").split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    git(target, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(target, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    git(target, "tag", "base")
    return target


@pytest.fixture
def worktree(repo):
    """The copy, restored to `base` after each test."""
    yield repo
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd")


def test_the_readme_plan_command_finishes_without_pythonunbuffered():
    result = run([sys.executable, str(ROOT / "run.py"), "plan", "dev"], ROOT)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Plan for dev") or "dev" in first
    assert "Policy verdict: PASS" in result.stdout



def test_a_mandatory_violation_exits_4_after_the_full_report(worktree):
    # A change outside configs/: the component now registers privileged containers.
    [path] = [p for p in (worktree / "components").glob("*.py") if '"privileged": False' in p.read_text()]
    path.write_text(path.read_text().replace('"privileged": False', '"privileged": True'))
    result = review(worktree, "plan", "dev")
    assert result.returncode == 4, result.stderr
    assert "Policy verdict: FAIL" in result.stdout
    assert "aws-ecs-task-definition-no-privileged-containers" in result.stdout
    # The same run with enforcement reported only: the same report, exit 0.
    report_only = review(worktree, "plan", "dev", "--policy", "report-only")
    assert report_only.returncode == 0, report_only.stderr
    assert "Policy verdict: FAIL" in report_only.stdout



def test_a_change_to_base_yaml_shows_in_the_diff_of_an_environment_that_extends_it(worktree):
    base = worktree / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("tag: v1.4.2", "tag: v1.4.3"))
    result = review(worktree, "diff", "base", "dev")
    assert result.returncode == 0, result.stderr
    assert "1 new revision" in result.stdout.splitlines()[1]
    assert "dev-api-task-definition" in result.stdout
    assert "v1.4.2" in result.stdout and "v1.4.3" in result.stdout  # the image bump, in full
    other = review(worktree, "diff", "base", "prod")  # prod extends base too
    assert other.returncode == 0, other.stderr
    assert "prod-api-task-definition" in other.stdout


def test_a_diff_against_the_same_ref_shows_no_change(worktree):
    result = review(worktree, "diff", "base", "dev")
    assert result.returncode == 0, result.stderr
    assert "no changes" in result.stdout.lower()
