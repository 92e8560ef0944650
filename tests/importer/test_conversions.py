"""The importer's conversions of Copilot values, exactly (Copilot manifest reference)."""

from __future__ import annotations

import pytest

from importer.copilot import backlog_per_task, exact_seconds, merge, rate_expression, schedule_expression, seconds
from importer.manifest import load_manifest


@pytest.mark.parametrize(
    ("copilot", "eventbridge"),
    [
        ("@daily", "cron(0 0 * * ? *)"),
        ("@midnight", "cron(0 0 * * ? *)"),
        ("@hourly", "cron(0 * * * ? *)"),
        ("@weekly", "cron(0 0 ? * 1 *)"),
        ("@monthly", "cron(0 0 1 * ? *)"),
        ("@yearly", "cron(0 0 1 1 ? *)"),  # not the reference table's "cron(0 * * * ? *)" typo
        ("@every 5m", "rate(5 minutes)"),
        ("@every 1m", "rate(1 minute)"),
        ("@every 90s", "rate(2 minutes)"),  # EventBridge's smallest unit is a minute: rounded up
        ("@every 2h", "rate(2 hours)"),
        ("@every 24h", "rate(1 day)"),
        ("rate(10 minutes)", "rate(10 minutes)"),
        ("cron(0 12 * * ? *)", "cron(0 12 * * ? *)"),
        ("0 17 * * *", "cron(0 17 * * ? *)"),  # Unix cron: day-of-week becomes ?
        ("30 6 * * 1-5", "cron(30 6 ? * 1-5 *)"),  # a weekday: day-of-month becomes ?
    ],
)
def test_schedules(copilot, eventbridge):
    assert schedule_expression(copilot) == eventbridge


def test_a_schedule_copilot_would_refuse_is_refused():
    with pytest.raises(ValueError, match="not a schedule Copilot accepts"):
        schedule_expression("every day at noon")


@pytest.mark.parametrize(("text", "value"), [("30s", 30), ("2m", 120), ("1h", 3600), ("1h30m", 5400), ("96h", 345600), (45, 45)])
def test_durations(text, value):
    assert seconds(text) == value


@pytest.mark.parametrize(("text", "value"), [("250ms", 0.25), ("1m", 60.0), ("1s500ms", 1.5), (2, 2.0)])
def test_exact_durations_keep_milliseconds(text, value):
    assert exact_seconds(text) == value


@pytest.mark.parametrize(
    ("delay", "backlog"),
    [
        ({"acceptable_latency": "1m", "msg_processing_time": "250ms"}, 240),  # worker-service.en.md: latency / time
        ({"acceptable_latency": "10m", "msg_processing_time": "7s"}, 85),  # whole messages, rounded down
        ({"acceptable_latency": "1s", "msg_processing_time": "5s"}, 1),  # at least one message per task
    ],
)
def test_queue_delay_becomes_backlog_per_task(delay, backlog):
    assert backlog_per_task(delay) == backlog


def test_a_queue_delay_without_its_parts_is_refused():
    with pytest.raises(ValueError, match="count.queue_delay needs acceptable_latency and msg_processing_time"):
        backlog_per_task({"acceptable_latency": "1m"})


def test_a_duration_with_junk_is_refused():
    with pytest.raises(ValueError, match="'5 minutes' is not a duration"):
        seconds("5 minutes")


def test_rate_expressions_use_whole_units():
    assert [rate_expression(s) for s in (60, 3600, 86400, 172800, 150)] == [
        "rate(1 minute)", "rate(1 hour)", "rate(1 day)", "rate(2 days)", "rate(3 minutes)"]


def test_overrides_merge_maps_and_replace_lists_and_scalars():
    base = {"count": {"range": "1-10", "cpu_percentage": 70}, "variables": {"A": "1"}, "command": ["a", "b"], "cpu": 256}
    override = {"count": {"range": "2-4"}, "variables": {"B": "2"}, "command": ["c"], "cpu": 1024}
    assert merge(base, override) == {
        "count": {"range": "2-4", "cpu_percentage": 70},
        "variables": {"A": "1", "B": "2"},
        "command": ["c"],
        "cpu": 1024,
    }


def test_manifests_are_read_as_yaml_1_2(tmp_path):
    # Go's yaml.v3 (Copilot) reads `on` and `yes` as strings; PyYAML 1.1 would make them booleans.
    path = tmp_path / "manifest.yml"
    path.write_text("name: job\non:\n  schedule: '@daily'\nflag: yes\nexec: true\ncount: 3\nratio: 0.5\nport: '80'\n")
    manifest = load_manifest(path, path.name)
    assert manifest.data == {"name": "job", "on": {"schedule": "@daily"}, "flag": "yes", "exec": True, "count": 3, "ratio": 0.5, "port": "80"}
    assert manifest.where("on", "schedule") == "manifest.yml:3"
    assert manifest.where("exec") == "manifest.yml:5"


def test_a_field_an_environment_overrides_is_reported_at_its_override(tmp_path):
    # The report names the line to edit: for prod, the `environments.prod` value that won the merge.
    path = tmp_path / "manifest.yml"
    path.write_text("name: api\ncpu: 256\nmemory: 512\nenvironments:\n  prod:\n    cpu: 1024\n")
    manifest = load_manifest(path, path.name)
    assert manifest.for_environment("prod").where("cpu") == "manifest.yml:6"
    assert manifest.for_environment("prod").where("memory") == "manifest.yml:3"
    assert manifest.for_environment("test").where("cpu") == "manifest.yml:2"
    assert manifest.where("cpu") == "manifest.yml:2"
