"""`autoscaling.queue`, `.schedule`, `.timezone`: refusals with file:line and the fix, the
schedule grammar AWS accepts, stable entry keys, the weekly hours, and the endpoints they need."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.endpoints import required_endpoints
from configs.schedules import CapacityWindow, Entry, schedule_key, schedule_problem, weekly_capacity
from tests.configs.cases import copy_reference_files, issue_lines, replace_once
from tests.harness import edited

QUEUE_LINE = '      queue: {arn: "arn:aws:sqs:eu-west-1:222222222222:orders", backlog_per_task: 100}'
NIGHT_LINE = '        - {cron: "cron(0 20 ? * MON-FRI *)", min: 0, max: 0}'
ZONE_LINE = "      timezone: Europe/Dublin"


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    return tmp_path / "staging.yaml"


def refused(path: Path, old: str, new: str) -> tuple[int, list[str]]:
    line = replace_once(path, old, new)
    return line, issue_lines(path.relative_to(Path.cwd()), stack="staging")


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ("arn:aws:sns:eu-west-1:222222222222:orders",
         "'arn:aws:sns:eu-west-1:222222222222:orders' is not an SQS queue ARN (arn:aws:sqs:eu-west-1:<account>:...)"),
        ("arn:aws:sqs:eu-west-1:222222222222:orders-*",
         "'arn:aws:sqs:eu-west-1:222222222222:orders-*' has a wildcard; name exactly one resource, since a pattern would grant every match"),
        ("arn:aws:sqs:us-east-1:222222222222:orders",
         "'arn:aws:sqs:us-east-1:222222222222:orders' is in us-east-1, not eu-west-1; ECS and the ALB read it from eu-west-1"),
        ("arn:aws:sqs:eu-west-1:999999999999:orders",
         "'arn:aws:sqs:eu-west-1:999999999999:orders' belongs to account 999999999999, which is neither aws.account_id nor in "
         "aws.trusted_accounts (222222222222); add it to aws.trusted_accounts if it is trusted"),
        ("arn:aws:sqs:eu-west-1:222222222222:orders/list",
         "'arn:aws:sqs:eu-west-1:222222222222:orders/list' does not end in a queue name (up to 80 letters, digits, - and _, "
         ".fifo for a FIFO queue); copy the ARN from the queue's details"),
    ],
    ids=["another-service", "wildcard", "another-region", "untrusted-account", "not-a-queue-name"],
)
def test_a_bad_queue_arn_is_refused_at_its_line(staging, queue, message):
    line, issues = refused(staging, QUEUE_LINE, f'      queue: {{arn: "{queue}", backlog_per_task: 100}}')
    assert issues == [f"staging.yaml:{line}: services.worker.autoscaling.queue.arn: {message}"]


def test_a_trusted_account_queue_is_accepted():
    def trusted(data):
        data["aws"]["trusted_accounts"] = ["999999999999"]
        data["services"]["worker"]["autoscaling"]["queue"]["arn"] = "arn:aws:sqs:eu-west-1:999999999999:orders"

    assert edited("staging", trusted).services["worker"].consumed_queue.arn == "arn:aws:sqs:eu-west-1:999999999999:orders"


def test_queue_scaling_without_container_insights_is_refused(staging):
    line = replace_once(staging, "  container_insights: enabled", "  container_insights: disabled")
    queue_line = next(n for n, text in enumerate(staging.read_text().splitlines(), 1) if text.startswith(QUEUE_LINE))
    assert line != queue_line
    assert issue_lines(Path("staging.yaml"), stack="staging") == [
        f"staging.yaml:{queue_line}: services.worker.autoscaling.queue: queue scaling divides the backlog by the running "
        "tasks from Container Insights (ECS/ContainerInsights RunningTaskCount), and cluster.container_insights is "
        "disabled; set it to enabled (or enhanced)"
    ]


def test_a_queue_key_must_be_a_kms_key_of_this_region(staging):
    line, issues = refused(staging, QUEUE_LINE, QUEUE_LINE[:-1] + ', kms_key: "arn:aws:kms:us-east-1:222222222222:alias/orders"}')
    assert issues == [
        f"staging.yaml:{line}: services.worker.autoscaling.queue.kms_key: 'arn:aws:kms:us-east-1:222222222222:alias/orders' "
        "is in us-east-1, not eu-west-1; ECS and the ALB read it from eu-west-1",
        f"staging.yaml:{line}: services.worker.autoscaling.queue.kms_key: 'arn:aws:kms:us-east-1:222222222222:alias/orders' "
        "is not a KMS key ARN (arn:aws:kms:eu-west-1:<account>:key/...)",
    ]


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("cron(0 20 * * MON-FRI *)", "'cron(0 20 * * MON-FRI *)': one of day-of-month and day-of-week must be ? (AWS does not "
         "combine them); write cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 19 ? * MON-FRI *)"),
        ("cron(0 20 ? * MON-FRI)", "'cron(0 20 ? * MON-FRI)': incorrect number of values in '0 20 ? * MON-FRI'. 6 required, "
         "5 provided; write cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 19 ? * MON-FRI *)"),
        ("cron(0 24 ? * MON-FRI *)", "'cron(0 24 ? * MON-FRI *)': invalid hour value '24'; write cron(minutes hours "
         "day-of-month month day-of-week year), e.g. cron(0 19 ? * MON-FRI *)"),
        ("0 20 * * 1-5", "'0 20 * * 1-5' is not a schedule expression; write cron(minutes hours day-of-month month "
         "day-of-week year), e.g. cron(0 19 ? * MON-FRI *), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)"),
        ("rate(1 hours)", "'rate(1 hours)': AWS wants the unit singular here; write rate(1 hour)"),
        ("at(2027-02-30T20:00:00)", "'at(2027-02-30T20:00:00)': at() takes one moment, yyyy-mm-ddThh:mm:ss, e.g. at(2027-03-01T07:00:00)"),
    ],
    ids=["both-days", "five-fields", "hour-24", "unix-cron", "rate-plural", "at-no-such-day"],
)
def test_a_schedule_aws_would_refuse_is_refused_at_its_line(staging, cron, message):
    line, issues = refused(staging, NIGHT_LINE, f'        - {{cron: "{cron}", min: 0, max: 0}}')
    assert issues == [f"staging.yaml:{line}: services.worker.autoscaling.schedule[0].cron: {message}"]


def test_min_above_max_in_an_entry_is_refused(staging):
    line, issues = refused(staging, NIGHT_LINE, '        - {cron: "cron(0 20 ? * MON-FRI *)", min: 2, max: 1}')
    assert issues == [f"staging.yaml:{line}: services.worker.autoscaling.schedule[0]: min 2 is above max 1; "
                      "Application Auto Scaling refuses it"]


def test_an_entry_above_autoscaling_max_is_refused(staging):
    line, issues = refused(staging, NIGHT_LINE, '        - {cron: "cron(0 20 ? * MON-FRI *)", min: 0, max: 9}')
    assert issues == [f"staging.yaml:{line}: services.worker.autoscaling.schedule[0].max: max 9 is above autoscaling.max 4, "
                      "which sizes the private subnets and the cost's maximum; lower it or raise autoscaling.max"]


def test_the_same_moment_twice_is_refused(staging):
    line, issues = refused(staging, NIGHT_LINE, NIGHT_LINE + "\n" + '        - {cron: "cron(0 20 ? * MON-FRI *)", min: 1, max: 1}')
    assert issues == [f"staging.yaml:{line + 1}: services.worker.autoscaling.schedule[1].cron: 'cron(0 20 ? * MON-FRI *)' "
                      "is already schedule[0]; one entry per moment, so merge them"]


def test_an_unknown_time_zone_is_refused(staging):
    line, issues = refused(staging, ZONE_LINE, "      timezone: Europe/Dubin")
    assert issues == [f"staging.yaml:{line}: services.worker.autoscaling.timezone: 'Europe/Dubin' is not an IANA time zone; "
                      "use a name such as Europe/Dublin or UTC"]


def test_a_time_zone_without_a_schedule_is_refused(staging):
    text = staging.read_text()
    start = text.index("      schedule:")
    staging.write_text(text[:start] + text[text.index(ZONE_LINE):])
    line = staging.read_text().splitlines().index(ZONE_LINE) + 1
    assert issue_lines(Path("staging.yaml"), stack="staging") == [
        f"staging.yaml:{line}: services.worker.autoscaling.timezone: a timezone applies to schedule entries and this "
        "service has none; remove it"
    ]


def test_a_schedule_alone_is_enough_autoscaling():
    def schedule_only(data):
        scaling = data["services"]["worker"]["autoscaling"]
        for key in ("cpu", "memory", "queue"):
            scaling.pop(key)

    worker = edited("staging", schedule_only).services["worker"]
    assert worker.consumed_queue is None and len(worker.autoscaling.schedule) == 2
    assert not worker.has_task_role  # nothing granted: no task role


def test_min_zero_is_allowed_with_a_queue():
    def zero(data):
        data["services"]["worker"]["desired_count"] = 0
        data["services"]["worker"]["autoscaling"]["min"] = 0

    assert edited("staging", zero).services["worker"].autoscaling.min == 0


# ---- grammar, keys, weekly hours --------------------------------------------------------------


@pytest.mark.parametrize("expression", [
    "cron(0 19 ? * MON-FRI *)", "cron(*/15 8-18 ? * 2-6 *)", "cron(0 0 L * ? *)", "cron(0 9 ? * 2#1 *)",
    "rate(1 minute)", "rate(5 minutes)", "rate(1 day)", "at(2027-03-01T07:00:00)",
])
def test_expressions_aws_accepts(expression):
    assert schedule_problem(expression) is None


def test_keys_come_from_the_expression_and_tell_near_twins_apart():
    assert schedule_key("cron(0 19 ? * MON-FRI *)") == "cron-0-19-mon-fri-c1a13a"
    assert schedule_key("cron(0 19 ? * MON-FRI *)") == schedule_key("cron(0 19 ? * MON-FRI *)")
    assert schedule_key("cron(0 19 * * ? *)") != schedule_key("cron(0 19 ? * * *)")  # same words, another digest
    assert all(c not in schedule_key("at(2027-03-01T07:00:00)") for c in ":/| ")  # ScheduledActionName forbids them


def test_weekly_hours_of_office_hours():
    entries = [Entry("cron(0 19 ? * MON-FRI *)", 0, 0), Entry("cron(0 7 ? * MON-FRI *)", 1, 20)]
    assert weekly_capacity(entries, (1, 20)) == (CapacityWindow(0, 0, 108.0), CapacityWindow(1, 20, 60.0))


def test_weekly_hours_ignore_at_and_rate_and_start_from_the_target_bounds():
    assert weekly_capacity([Entry("at(2027-03-01T07:00:00)", 0, 0), Entry("rate(1 day)", 0, 0)], (2, 4)) == (
        CapacityWindow(2, 4, 168.0),)
    # Weekends only: Saturday 00:00 to Monday 00:00 at 0-0, the rest back at 1-3.
    entries = [Entry("cron(0 0 ? * SAT *)", 0, 0), Entry("cron(0 0 ? * MON *)", 1, 3)]
    assert weekly_capacity(entries, (1, 3)) == (CapacityWindow(0, 0, 48.0), CapacityWindow(1, 3, 120.0))


# ---- endpoints --------------------------------------------------------------------------------


def test_a_job_secret_in_a_vpc_without_nat_gets_its_endpoint():
    def job_secret_only(data):
        data["services"]["api"]["secrets"] = {"API_KEY": {"parameter": "/dev/api/key"}}  # no Secrets Manager left
        data["jobs"] = {"nightly": {"image": {"repository": "api", "tag": "v1"}, "user": "10001", "secrets": {
            "DB": {"secret": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:dev/db-Xy12Ab"}}}}

    def no_job(data):  # dev's own migrate job reads a Secrets Manager secret too
        data["services"]["api"]["secrets"] = {"API_KEY": {"parameter": "/dev/api/key"}}
        data.pop("jobs", None)

    without = edited("dev", no_job)
    assert "secretsmanager" not in required_endpoints(without)
    assert "secretsmanager" in required_endpoints(edited("dev", job_secret_only))


def test_a_job_sidecar_parameter_gets_ssm():
    def sidecar_parameter(data):
        data["services"]["api"]["secrets"] = {}
        data["services"]["api"]["sidecars"]["otel"]["secrets"] = {}
        data["jobs"] = {"nightly": {"image": {"repository": "api", "tag": "v1"}, "user": "10001", "sidecars": {
            "agent": {"image": {"repository": "api", "tag": "v1"}, "memory": 64, "user": "10001", "essential": False,
                      "secrets": {"TOKEN": {"parameter": "/dev/agent/token"}}}}}}

    assert required_endpoints(edited("dev", sidecar_parameter)) == (
        "ecr.api", "ecr.dkr", "kms", "logs", "s3", "ssm", "ssmmessages")


def test_a_queue_scaled_service_gets_sqs_and_only_then():
    def queue_worker(data):
        data["services"]["worker"]["autoscaling"] = {
            "min": 0, "max": 2, "queue": {"arn": "arn:aws:sqs:eu-west-1:111111111111:jobs", "backlog_per_task": 5}}

    assert "sqs" not in required_endpoints(edited("dev", lambda d: None))
    assert "sqs" in required_endpoints(edited("dev", queue_worker))


def test_an_explicit_list_without_sqs_is_refused_without_nat():
    def listed(data):
        data["services"]["worker"]["autoscaling"] = {
            "min": 0, "max": 2, "queue": {"arn": "arn:aws:sqs:eu-west-1:111111111111:jobs", "backlog_per_task": 5}}
        data["network"]["endpoints"] = ["s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ssmmessages", "kms"]

    with pytest.raises(Exception) as error:
        edited("dev", listed)
    assert ("network.endpoints: with nat: none, tasks reach AWS only through endpoints, and sqs are missing; "
            "add them or write endpoints: auto") in str(error.value)
