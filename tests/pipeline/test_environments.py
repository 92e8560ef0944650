"""The environments the workflows run: derived from configs/ and Pulumi.<name>.yaml, never listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from configs.errors import ConfigError
from pipeline import environments
from pipeline.environments import Target, by_tier, github_outputs, stack_names, targets

ROOT = Path(__file__).resolve().parents[2]


def repository(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


BASE = "tags: {team: x}\n"


def governance_text(**changes) -> str:
    """The shipped governance file (its tiers and tags) with other placements, no waivers."""
    data = yaml.safe_load((ROOT / "policies" / "governance.yaml").read_text())
    return yaml.safe_dump({**data, "waivers": [], **changes})
QA = "extends: base.yaml\nenvironment: qa\naws: {region: us-east-2}\n"
DEV = "environment: dev\naws: {region: eu-central-1}\n"


def test_an_environment_needs_both_its_file_and_its_stack(tmp_path):
    root = repository(
        tmp_path,
        {
            "configs/base.yaml": BASE,  # a layer: no stack
            "configs/qa.yaml": QA,
            "configs/dev.yaml": DEV,
            "configs/orphan.yaml": DEV,  # no Pulumi.orphan.yaml
            "Pulumi.qa.yaml": "config: {}\n",
            "Pulumi.dev.yaml": "config: {}\n",
            "Pulumi.gone.yaml": "config: {}\n",  # no configs/gone.yaml
        },
    )
    assert stack_names(root) == ["dev", "qa"]
    # Regions from the files (qa's through nothing but its own aws section); no governance
    # file: every environment is production (fail closed).
    assert targets(root) == [Target("dev", "eu-central-1", "production"), Target("qa", "us-east-2", "production")]


def test_tiers_come_from_governance_and_unlisted_environments_take_the_default(tmp_path):
    root = repository(
        tmp_path,
        {
            "configs/qa.yaml": QA,
            "configs/base.yaml": BASE,
            "configs/dev.yaml": DEV,
            "configs/perf.yaml": "environment: perf\naws: {region: ap-south-1}\n",
            "Pulumi.qa.yaml": "",
            "Pulumi.dev.yaml": "",
            "Pulumi.perf.yaml": "",
            "policies/governance.yaml": governance_text(
                default_tier="staging", environments={"dev": {"tier": "development"}, "qa": {"tier": "development"}}
            ),
        },
    )
    found = targets(root)
    assert by_tier(found) == {
        "development": [
            {"environment": "dev", "region": "eu-central-1", "tier": "development"},
            {"environment": "qa", "region": "us-east-2", "tier": "development"},
        ],
        "staging": [{"environment": "perf", "region": "ap-south-1", "tier": "staging"}],
        "production": [],
    }
    lines = github_outputs(found).splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["all", "development", "staging", "production"]
    assert json.loads(lines[3].split("=", 1)[1]) == []
    assert json.loads(lines[0].split("=", 1)[1])[2] == {"environment": "qa", "region": "us-east-2", "tier": "development"}


def test_a_file_without_a_region_is_reported_at_its_line(tmp_path):
    root = repository(tmp_path, {"configs/qa.yaml": "environment: qa\naws: {account_id: '123456789012'}\n", "Pulumi.qa.yaml": ""})
    with pytest.raises(ConfigError) as error:
        targets(root)
    [issue] = error.value.issues
    assert (Path(issue.file).name, issue.line, issue.path) == ("qa.yaml", 2, "aws.region")
    assert issue.message == "missing; name the environment's region, e.g. eu-west-1"


def test_the_command_prints_the_repository_environments_as_json():
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "environments"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [entry["environment"] for entry in listed] == stack_names(ROOT)
    for entry in listed:
        assert set(entry) == {"environment", "region", "tier"}
        assert entry["region"] == environments.region_of(entry["environment"], ROOT)


def test_tiers_are_read_by_configs_governance_which_refuses_a_bad_file(tmp_path):
    """One reader of policies/governance.yaml: a tier the loader would refuse is refused here too."""
    root = repository(
        tmp_path,
        {"configs/qa.yaml": QA, "configs/base.yaml": BASE, "Pulumi.qa.yaml": "",
         "policies/governance.yaml": governance_text(environments={"qa": {"tier": "prod"}})},
    )
    with pytest.raises(ConfigError) as error:
        targets(root)
    [issue] = error.value.issues
    text = (root / "policies" / "governance.yaml").read_text().splitlines()
    assert issue.path == "environments.qa.tier" and text[issue.line - 1].strip() == "tier: prod"
    assert "'production', 'staging' or 'development'" in issue.message, issue.message


def test_environment_discovery_has_one_definition(tmp_path, monkeypatch):
    """The pipeline asks configs/environments.py, never globs on its own."""
    monkeypatch.setattr(environments, "environment_names", lambda root: ("only",) if root == tmp_path else ())
    assert stack_names(tmp_path) == ["only"]
