"""Job schedules AWS would refuse are refused at load time with file:line (the model's pattern
checks only their shape; aws-croniter reads AWS's cron dialect)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.configs.cases import copy_reference_files, issue_lines

JOB = """
  nightly:
    image: {{repository: reports, tag: v1}}
    user: "10001"
    schedule: "{schedule}"
"""


@pytest.mark.parametrize("schedule, reason", [
    ("cron(0 2 * * * *)", "Invalid combination of day-of-month '*' and day-of-week '*'. One must be a question mark (?)"),
    ("cron(0 25 * * ? *)", "Invalid hour value '25'."),
    ("cron(0 2 ? 13 MON *)", "Invalid month value '13'."),
])
def test_a_cron_expression_aws_refuses_is_refused_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schedule, reason):
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    path = Path("prod.yaml")
    text = path.read_text()
    path.write_text(text + ("" if "\njobs:\n" in text else "\njobs:") + JOB.format(schedule=schedule))  # after prod's own jobs
    line = len(path.read_text().splitlines())
    assert issue_lines(path, stack="prod") == [
        f"prod.yaml:{line}: jobs.nightly.schedule: '{schedule}' is not a cron expression EventBridge Scheduler accepts: "
        f"{reason}; the fields are minutes hours day-of-month month day-of-week year, with ? in one of the day fields, "
        "e.g. cron(0 2 * * ? *)"
    ]
