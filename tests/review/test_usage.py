"""The usage file: optional, validated like the environment file, stated in the assumptions."""

from __future__ import annotations

import pytest

from configs.errors import ConfigError
from review import usage as usage_module
from review import workflow
from review.usage import Usage, UsageFile, expected_tasks, load_usage
from tests.harness import reference_config


def write(tmp_path, text: str):
    path = tmp_path / "prod.yaml"
    path.write_text(text)
    return path


def test_without_a_file_every_figure_is_a_default(tmp_path):
    found = load_usage(reference_config("prod"), tmp_path / "none.yaml")
    assert found.usage == Usage()
    assert found.figure("nat_gb", 20.0) == 20.0
    assert found.says("nat_gb", 20.0, "{value} GB through NAT").startswith("20 GB through NAT (default; set nat_gb in ")


def test_a_valid_file_gives_its_figures(tmp_path):
    path = write(tmp_path, "nat_gb: 150\nservices:\n  api: {expected_tasks: 5}\njobs: {}\n")
    found = load_usage(reference_config("prod"), path)
    assert (found.figure("nat_gb", 20.0), found.figure("alb_lcu", 1.0)) == (150.0, 1.0)
    assert expected_tasks(reference_config("prod"), found, "api") == 5
    assert expected_tasks(reference_config("prod"), found, "worker") == 2  # desired_count


def test_every_problem_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, "\n".join([
        "nat_gbs: 10",
        "internet_egress_gb: -5",
        "alb_lcu: lots",
        "services:",
        "  api: {expected_tasks: 25}",
        "  billing: {expected_tasks: 1}",
        "  worker: {expected: 3}",
        "jobs:",
        "  nightly: {runs_per_month: 30}",
        "",
    ]))
    with pytest.raises(ConfigError) as caught:
        load_usage(reference_config("prod"), path)
    name = caught.value.issues[0].file
    assert [str(issue) for issue in caught.value.issues] == [
        f"{name}:1: nat_gbs: unknown key 'nat_gbs'; did you mean 'nat_gb'?",
        f"{name}:2: internet_egress_gb: input should be greater than or equal to 0 (got -5)",
        f"{name}:3: alb_lcu: input should be a valid number, unable to parse string as a number (got 'lots')",
        f"{name}:7: services.worker.expected: unknown key 'expected'; did you mean 'expected_tasks'?",
    ]


def test_the_file_is_checked_against_the_environment(tmp_path):
    path = write(tmp_path, "services:\n  api: {expected_tasks: 25}\n  billing: {expected_tasks: 1}\n  reports: {expected_tasks: 2}\njobs:\n  nightly: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_usage(reference_config("prod"), path)
    name = caught.value.issues[0].file
    assert [str(issue) for issue in caught.value.issues] == [
        f"{name}:2: services.api.expected_tasks: 25 is outside what the service runs: use a count between autoscaling.min 3 and max 20",
        f"{name}:3: services.billing: no service 'billing' in the environment file (services: api, worker)",
        # prod's reports is a scheduled job now (jobs.reports), not a service
        f"{name}:4: services.reports: no service 'reports' in the environment file (services: api, worker)",
        f"{name}:6: jobs.nightly: no job 'nightly' in the environment file (jobs: reports)",
    ]
    # a service without autoscaling runs its desired_count (dev's api; prod has none left)
    fixed = write(tmp_path, "services:\n  api: {expected_tasks: 2}\n")
    with pytest.raises(ConfigError) as caught:
        load_usage(reference_config("dev"), fixed)
    assert [issue.message for issue in caught.value.issues] == [
        "2 is outside what the service runs: use a count desired_count 1 (no autoscaling)"
    ]


def test_a_bad_usage_file_stops_the_plan_before_the_program_runs(tmp_path, monkeypatch):
    (tmp_path / "prod.yaml").write_text("nat_gb: [1, 2]\n")
    monkeypatch.setattr(usage_module, "USAGE_DIR", tmp_path)
    monkeypatch.setattr(workflow, "_plans", lambda *a: pytest.fail("the program ran"))
    with pytest.raises(ConfigError, match=r"prod.yaml:1: nat_gb: input should be a valid number"):
        workflow.plan_report(reference_config("prod"), policy=False)


def test_the_shipped_usage_files_are_valid():
    for path in sorted(usage_module.USAGE_DIR.glob("*.yaml")):
        assert isinstance(load_usage(reference_config(path.stem), path), UsageFile)
