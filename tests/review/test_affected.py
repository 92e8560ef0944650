"""`review affected BASE_REF`: the environments a change touches, in a scratch git repository
holding the shipped environment files, changed one way per test."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from configs.environments import environment_names
from review.affected import affected_targets
from review.sources import RefError
from tests.review.test_golden import check_golden

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("dev", "staging", "prod")


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The shipped environments (and the layers they extend) committed on `main`; an environment
    a user added to this checkout (configs/qa.yaml) is not copied, so the expectations hold."""
    (tmp_path / "configs").mkdir()
    mine = set(environment_names(ROOT)) - set(SHIPPED)
    for path in (ROOT / "configs").glob("*.yaml"):
        if path.stem not in mine:
            shutil.copy(path, tmp_path / "configs" / path.name)
    for path in ROOT.glob("Pulumi*.yaml"):
        if path.stem.removeprefix("Pulumi.") not in mine:
            shutil.copy(path, tmp_path / path.name)
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "service.py").write_text("# the program\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "change")  # the pull request's branch
    return tmp_path


def names(repo: Path) -> list[str]:
    return [entry["environment"] for entry in affected_targets("main", repo)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_no_change_affects_nothing(repo):
    assert affected_targets("main", repo) == []


def test_a_change_of_base_yaml_affects_every_environment_that_extends_it(repo):
    edit(repo / "configs" / "base.yaml", "tag: v2.0.0", "tag: v2.1.0")
    found = affected_targets("main", repo)
    assert [e["environment"] for e in found] == sorted(SHIPPED)
    assert {e["region"] for e in found} == {"eu-west-1"}
    check_golden("affected-base-yaml.json", json.dumps(found, indent=2))


def test_a_base_yaml_change_that_an_environment_overrides_does_not_affect_it(repo):
    # dev and prod set api's LOG_LEVEL themselves (mappings merge key by key), so base's value
    # reaches staging only.
    edit(repo / "configs" / "base.yaml", "environment: {LOG_LEVEL: info}", "environment: {LOG_LEVEL: warn}")
    assert names(repo) == ["staging"]


def test_an_edit_of_one_environment_affects_only_it_and_a_comment_affects_none(repo):
    edit(repo / "configs" / "dev.yaml", "desired_count: 1", "desired_count: 2")
    assert names(repo) == ["dev"]
    git(repo, "commit", "-qam", "dev: two tasks")
    assert names(repo) == ["dev"]  # committed on a branch: still against the merge base
    edit(repo / "configs" / "staging.yaml", "extends: base.yaml", "extends: base.yaml   # a comment")
    assert names(repo) == ["dev"]


def test_a_change_outside_configs_affects_every_environment(repo):
    (repo / "components" / "service.py").write_text("# the program, changed\n")
    assert names(repo) == ["dev", "prod", "staging"]


def test_a_new_environment_is_affected_and_a_layer_is_not_an_environment(repo):
    shutil.copy(repo / "configs" / "dev.yaml", repo / "configs" / "qa.yaml")
    edit(repo / "configs" / "qa.yaml", "environment: dev", "environment: qa")
    assert names(repo) == []  # no Pulumi.qa.yaml yet: not a stack
    (repo / "Pulumi.qa.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    assert affected_targets("main", repo) == [{"environment": "qa", "region": "eu-west-1", "tier": "production"}]


def test_an_unknown_ref_is_refused(repo):
    with pytest.raises(RefError, match="no-such-branch is not a commit git knows here"):
        affected_targets("no-such-branch", repo)


def test_an_environment_missing_at_the_base_ref_is_new_and_a_bad_ref_is_refused(repo):
    from review.sources import environment_at

    assert environment_at("main", "qa", cwd=repo) is None
    assert environment_at("main", "dev", cwd=repo).environment == "dev"
    with pytest.raises(RefError):
        environment_at("origin/nope", "dev", cwd=repo)


def test_the_review_workflow_s_matrix_is_the_affected_environments_as_github_outputs(repo):
    """review.yml's first job runs `review affected "$BASE_REF" --github-output`: a base.yaml
    edit that only staging inherits gives a one-entry matrix (fromJSON of `all`)."""
    from pipeline.environments import github_outputs
    from review.affected import affected

    edit(repo / "configs" / "base.yaml", "environment: {LOG_LEVEL: info}", "environment: {LOG_LEVEL: warn}")
    lines = dict(line.split("=", 1) for line in github_outputs(affected("main", repo)).splitlines())
    # The scratch repository has no policies/governance.yaml: every environment is production.
    assert json.loads(lines["all"]) == [{"environment": "staging", "region": "eu-west-1", "tier": "production"}]
    assert json.loads(lines["production"]) == json.loads(lines["all"])
    assert json.loads(lines["development"]) == json.loads(lines["staging"]) == []


def test_the_affected_command_prints_github_outputs():
    done = subprocess.run(
        [sys.executable, "-m", "review", "affected", "HEAD", "--github-output"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["all", "development", "staging", "production"]
    assert all(isinstance(json.loads(line.split("=", 1)[1]), list) for line in lines)
