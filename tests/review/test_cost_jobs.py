"""Cost lines for GPU hosts, jobs (runs x minutes x the task's rate, Step Functions, Scheduler)
and Fargate task storage, against hand-computed figures (eu-west-1 list prices of
review/prices/eu-west-1.json), and their place in the plan's range and the review diff."""

from __future__ import annotations

import pytest

from configs.schedules import cron_problem, runs_per_month
from review.cost import Built, Inputs, ec2_lines, ephemeral_storage_lines, estimate_cost, job_lines
from review.offline import Plan
from review.prices import load_prices
from review.render import cost_delta_rows, cost_text
from review.report import build_report
from review.usage import JobUsage, Usage, UsageFile
from tests.harness import edited, plan_of, reference_config

EU = load_prices("eu-west-1")
ORIGIN = "configs/usage/test.yaml"


def inputs(config, usage: Usage = Usage()) -> Inputs:
    return Inputs(config, Plan(config.environment), EU, UsageFile(usage, ORIGIN))


def with_job(**job):
    def edit(data):
        # The only job (a shipped environment's own jobs, such as dev's migrate, are left out).
        data["jobs"] = {"batch": {"image": {"repository": "worker", "tag": "v1"}, "user": "10001", **job}}
    return edit


def with_gpu(data):
    data["cluster"]["capacity"]["ec2"]["gpu"] = {"instance_types": ["g5.xlarge"], "min_size": 0, "max_size": 4}
    data["registry"]["repositories"]["ml"] = {}
    data["services"]["ml"] = {
        "image": {"repository": "ml", "tag": "v0.3.0"}, "cpu": 4096, "memory": 14336, "user": "10001", "gpu": 1,
        "capacity": [{"provider": "gpu", "weight": 1}],
    }


def lines_of(builder, config, usage: Usage = Usage()):
    built = Built()
    builder(inputs(config, usage), built)
    return built


# ---- schedules: runs per month ---------------------------------------------------------------


@pytest.mark.parametrize("schedule, runs", [
    ("cron(0 2 * * ? *)", 365 / 12),            # daily: 365 firings in 2027, over 12 months
    ("rate(1 day)", 43800 / 1440),               # the same 30.42 from 730 h
    ("rate(15 minutes)", 2920.0),                # 43800 / 15
    ("rate(1 hour)", 730.0),
    ("cron(0/15 9-17 ? * MON-FRI *)", 261 * 4 * 9 / 12),   # 261 weekdays in 2027, 4 an hour, 9 hours
    ("cron(0 8 L * ? *)", 1.0),                  # the last day of each month
    ("cron(0 8 ? * 2#1 *)", 1.0),                # the first Monday of each month
])
def test_runs_per_month(schedule, runs):
    assert runs_per_month(schedule) == pytest.approx(runs)


def test_a_cron_aws_would_refuse_names_the_reason():
    assert cron_problem("cron(0 2 * * * *)") == (
        "Invalid combination of day-of-month '*' and day-of-week '*'. One must be a question mark (?)"
    )
    assert cron_problem("cron(0 25 * * ? *)") == "Invalid hour value '25'."
    assert cron_problem("cron(0 2 * * ? *)") is None and cron_problem("rate(5 minutes)") is None


# ---- GPU hosts --------------------------------------------------------------------------------


def test_the_spec_ml_service_prices_one_g5_xlarge_named_with_its_gpu():
    # 1 task of 4096/14336 fills one g5.xlarge; min_size 0, target 100%, all on-demand:
    # 730 h x $1.123 = $819.79, and its 30 GB gp3 root volume 30 x $0.088 = $2.64.
    built = lines_of(ec2_lines, edited("prod", with_gpu))
    gpu = [line for line in built.lines if line.item.startswith("gpu: ")]
    assert [(line.item, line.quantity, line.unit_price) for line in gpu] == [
        ("gpu: g5.xlarge (1 GPU) on-demand x 1 (min 1, max 1)", 730.0, 1.123),
        ("gpu: gp3 root volumes 1 x 30 GB", 1.0, pytest.approx(2.64)),
    ]
    assert round(sum(line.monthly for line in gpu), 2) == 822.43
    assert built.shared_by_service["ml"] == pytest.approx(822.43, abs=0.005)


# ---- jobs ------------------------------------------------------------------------------------


def test_an_hourly_fargate_job_with_its_usage_minutes():
    # rate(1 hour): 730 runs; 45 minutes each = 547.5 task-hours of 1 vCPU / 2 GB on Fargate:
    # (1 x 0.04048 + 2 x 0.004445) = $0.04937 an hour -> 547.5 x 0.04937 = $27.03.
    # max: every run fails at the 60-minute timeout and is retried once: 1460 x 1 h x 0.04937 = $72.08.
    # Step Functions: 730 x 2 transitions x $0.000025 = $0.0365 (max 730 x 3 = $0.05475);
    # Scheduler: 730 invocations x $0.000001 = $0.00073.
    config = edited("dev", with_job(cpu=1024, memory=2048, schedule="rate(1 hour)", timeout_minutes=60, retries=1,
                                    capacity=[{"provider": "fargate", "weight": 1}]))
    built = lines_of(job_lines, config, Usage(jobs={"batch": JobUsage(minutes=45)}))
    task, transitions, invocations = built.lines
    assert (task.component, task.item) == ("job batch", "Fargate 1 vCPU / 2 GB x86_64: 730 runs x 45 min (max 1460 x 60 min)")
    assert (task.quantity, task.unit, task.unit_price) == (547.5, "task-h", pytest.approx(0.04937))
    assert (round(task.monthly, 2), round(task.minimum, 2), round(task.maximum, 2)) == (27.03, 27.03, 72.08)
    assert (transitions.quantity, round(transitions.monthly, 4), round(transitions.maximum, 5)) == (1460, 0.0365, 0.05475)
    assert transitions.item == "Step Functions state transitions (2 per run, 1 per retry)"
    assert (invocations.quantity, invocations.unit, invocations.monthly) == (730, "invocation", pytest.approx(0.00073))
    assert built.assumptions == [
        f"job batch: 730 runs a month from rate(1 hour) (counted over 2027, 730 h a month), 45 minutes a run (from {ORIGIN}); "
        "max: every run stopped at timeout_minutes 60 and retried 1 times; free tiers of Step Functions and Scheduler not counted"
    ]


def test_the_spec_nightly_job_on_fargate_spot_with_default_minutes():
    # cron(0 2 * * ? *): 365 / 12 = 30.4167 runs x 10 minutes (default) = 5.0694 task-hours of
    # 0.25 vCPU / 0.5 GB at Spot: 0.25 x 0.012144 + 0.5 x 0.0013335 = $0.00370275 -> $0.0188;
    # max: 30.4167 x 3 runs x 1 h on-demand (0.25 x 0.04048 + 0.5 x 0.004445 = 0.0123425) = $1.1263.
    config = edited("dev", with_job(schedule="cron(0 2 * * ? *)", timezone="Europe/Dublin", timeout_minutes=60, retries=2,
                                    capacity=[{"provider": "fargate_spot", "weight": 1}]))
    task = lines_of(job_lines, config).lines[0]
    assert task.item == "Fargate Spot 0.25 vCPU / 0.5 GB x86_64: 30.4167 runs x 10 min (max 91.25 x 60 min)"
    assert task.quantity == pytest.approx(365 / 12 * 10 / 60)
    assert (round(task.monthly, 4), round(task.maximum, 4)) == (0.0188, 1.1263)


def test_default_minutes_never_exceed_the_timeout():
    config = edited("dev", with_job(schedule="rate(1 day)", timeout_minutes=5, capacity=[{"provider": "fargate", "weight": 1}]))
    assert "x 5 min" in lines_of(job_lines, config).lines[0].item


def test_a_one_off_job_costs_nothing_until_the_usage_file_gives_runs():
    config = edited("dev", with_job(capacity=[{"provider": "fargate", "weight": 1}]))
    built = lines_of(job_lines, config)
    (line,) = built.lines  # no state machine, no schedule: only the task line, at 0 runs
    assert (line.item, line.quantity, line.monthly, line.maximum) == (
        "Fargate 0.25 vCPU / 0.5 GB x86_64: 0 runs x 10 min (max 0 x 60 min)", 0.0, 0.0, 0.0
    )
    assert built.assumptions == [
        f"job batch (one-off): 0 runs a month (default; set jobs.batch.runs_per_month in {ORIGIN}), "
        f"10 minutes a run (default, at most timeout_minutes; set jobs.batch.minutes in {ORIGIN})"
    ]
    # 4 runs x 30 minutes = 2 task-hours x $0.0123425 = $0.0247
    (line,) = lines_of(job_lines, config, Usage(jobs={"batch": JobUsage(runs_per_month=4, minutes=30)})).lines
    assert (line.quantity, round(line.monthly, 4)) == (2.0, 0.0247)


def test_a_gpu_job_on_ec2_pays_the_instance_for_its_runs():
    # 10 runs x 60 minutes on the gpu provider: the task (2048/8192) occupies one g5.xlarge for
    # 10 hours at $1.123 on demand = $11.23.
    def edit(data):
        with_gpu(data)
        with_job(cpu=2048, memory=8192, gpu=1, timeout_minutes=120, capacity=[{"provider": "gpu", "weight": 1}])(data)
    built = lines_of(job_lines, edited("prod", edit), Usage(jobs={"batch": JobUsage(runs_per_month=10, minutes=60)}))
    (line,) = [line for line in built.lines if line.component == "job batch"]  # beside prod's nightly reports job
    assert (line.item, line.unit) == ("gpu: g5.xlarge (1 GPU) on-demand: 10 runs x 60 min (max 10 x 120 min)", "instance-h")
    assert (line.quantity, round(line.monthly, 2), round(line.maximum, 2)) == (10.0, 11.23, 22.46)


# ---- Fargate task storage --------------------------------------------------------------------


def test_ephemeral_storage_above_the_free_20_gb_per_task_hour():
    # 50 GB - 20 free = 30 GB x 2 tasks x 730 h = 43,800 GB-h x $0.000122 = $5.34
    config = edited("dev", lambda d: d["services"]["api"].update(ephemeral_storage=50, desired_count=2, autoscaling=None))
    (line,) = lines_of(ephemeral_storage_lines, config).lines
    assert (line.component, line.item) == ("service api", "task storage 30 GB above Fargate's free 20 x 2 tasks (min 2, max 2)")
    assert (line.quantity, line.unit, round(line.monthly, 2)) == (43800.0, "GB-h", 5.34)


def test_a_jobs_storage_follows_its_runs():
    # 730 runs x 10 min = 121.667 task-hours x 80 GB above the free 20 x $0.000122 = $1.19
    config = edited("dev", with_job(schedule="rate(1 hour)", ephemeral_storage=100, capacity=[{"provider": "fargate", "weight": 1}]))
    (line,) = lines_of(ephemeral_storage_lines, config).lines
    assert (line.component, line.unit, round(line.monthly, 2)) == ("job batch", "GB-h", 1.19)
    # max: every run at its 60-minute timeout, 730 task-hours x 80 GB x $0.000122 = $7.12
    assert round(line.maximum, 4) == 7.1248


def test_no_storage_line_without_ephemeral_storage():
    assert lines_of(ephemeral_storage_lines, reference_config("dev")).lines == []
    job_without = edited("dev", with_job(schedule="rate(1 hour)", capacity=[{"provider": "fargate", "weight": 1}]))
    assert lines_of(ephemeral_storage_lines, job_without).lines == []


def test_ephemeral_storage_ranges_with_the_task_count():
    # 30 GB above the free 20 x 730 h x $0.000122 = $2.67 a task: min 1, expected 2, max 4 tasks.
    config = edited("dev", lambda d: d["services"]["api"].update(
        ephemeral_storage=50, desired_count=2, autoscaling={"min": 1, "max": 4, "cpu": 60}))
    (line,) = lines_of(ephemeral_storage_lines, config).lines
    assert (round(line.minimum, 2), round(line.maximum, 2)) == (2.67, 10.69)


# ---- the plan's range and the review diff ------------------------------------------------------


@pytest.fixture(scope="module")
def with_and_without_a_job():
    base = reference_config("dev")
    head = edited("dev", with_job(cpu=1024, memory=2048, schedule="rate(1 hour)", ephemeral_storage=50,
                                  capacity=[{"provider": "fargate", "weight": 1}]))
    usage = UsageFile(Usage(), ORIGIN)
    return build_report(base, plan_of(base), None, usage), build_report(head, plan_of(head), None, usage)


def test_job_lines_are_in_the_plans_range_and_text(with_and_without_a_job):
    base, head = with_and_without_a_job
    job = [line for line in head.cost.lines if line.component == "job batch"]
    # task (730 runs x 10 min x $0.04937 = $6.0066), storage (121.667 h x 30 GB x $0.000122 = $0.4453),
    # Step Functions ($0.0365), Scheduler ($0.00073), and the job's log group (0.5 GB ingested and stored).
    items = [line.item for line in job]
    assert items[:4] == [
        "Fargate 1 vCPU / 2 GB x86_64: 730 runs x 10 min (max 730 x 60 min)",
        "Step Functions state transitions (2 per run, 1 per retry)",
        "EventBridge Scheduler invocations (rate(1 hour))",
        "task storage 30 GB above Fargate's free 20 for 121.667 task-hours (max 730)",
    ]
    added = sum(line.monthly for line in job[:4])
    assert round(added, 4) == round(730 * 10 / 60 * 0.04937 + 1460 * 0.000025 + 730 * 1e-6 + 730 * 10 / 60 * 30 * 0.000122, 4)
    assert head.cost.by_component()["job batch"] == pytest.approx(sum(line.monthly for line in job))
    assert head.cost.max - base.cost.max >= 730 * 0.04937  # max: every run at its 60-minute timeout
    text = cost_text(head.cost)
    assert "Fargate 1 vCPU / 2 GB x86_64: 730 runs x 10 min (max 730 x 60 min)" in text
    assert "job batch: 730 runs a month from rate(1 hour)" in text


def test_the_review_diff_shows_the_job_as_a_new_component(with_and_without_a_job):
    base, head = with_and_without_a_job
    rows = {name: (before, after) for name, before, after in cost_delta_rows(base.cost, head.cost)}
    assert rows["job batch"][0] == 0.0
    assert rows["job batch"][1] == pytest.approx(head.cost.by_component()["job batch"])


def test_the_whole_estimate_adds_the_job_lines_once():
    config = edited("dev", with_job(schedule="rate(1 hour)", capacity=[{"provider": "fargate", "weight": 1}]))
    cost = estimate_cost(config, plan_of(config), EU, UsageFile(Usage(), ORIGIN))
    assert sum(1 for line in cost.lines if line.item.startswith("EventBridge Scheduler")) == 1


# ---- the usage file's job keys ---------------------------------------------------------------


def test_job_usage_is_checked_against_the_jobs(tmp_path):
    from configs.errors import ConfigError
    from review.usage import load_usage

    config = edited("dev", lambda d: d.update(jobs={
        "nightly": {"image": {"repository": "worker", "tag": "v1"}, "user": "10001", "schedule": "cron(0 2 * * ? *)", "timeout_minutes": 30},
        "migrate": {"image": {"repository": "worker", "tag": "v1"}, "user": "10001"},
    }))
    path = tmp_path / "dev.yaml"
    path.write_text("jobs:\n  nightly: {minutes: 45, runs_per_month: 30}\n  migrate: {minutes: 12, runs_per_month: 2}\n  report: {minutes: 1}\n  other: {minute: 3}\n")
    with pytest.raises(ConfigError) as caught:
        load_usage(config, path)
    name = caught.value.issues[0].file
    assert [str(issue) for issue in caught.value.issues] == [
        f"{name}:5: jobs.other.minute: unknown key 'minute'; did you mean 'minutes'?",
    ]
    path.write_text("jobs:\n  nightly: {minutes: 45, runs_per_month: 30}\n  migrate: {minutes: 12, runs_per_month: 2}\n  report: {minutes: 1}\n")
    with pytest.raises(ConfigError) as caught:
        load_usage(config, path)
    assert [str(issue) for issue in caught.value.issues] == [
        f"{name}:2: jobs.nightly.minutes: 45 is longer than the job's timeout_minutes 30, after which a run is stopped; "
        "use a figure up to it (or raise timeout_minutes)",
        f"{name}:2: jobs.nightly.runs_per_month: nightly runs on its schedule (cron(0 2 * * ? *)), which sets its runs; "
        "remove runs_per_month (it counts runs of one-off jobs)",
        f"{name}:4: jobs.report: no job 'report' in the environment file (jobs: migrate, nightly)",
    ]
    path.write_text("jobs:\n  nightly: {minutes: 20}\n  migrate: {minutes: 12, runs_per_month: 2}\n")
    found = load_usage(config, path)
    assert (found.job_minutes("nightly", 30), found.one_off_runs("migrate"), found.one_off_runs("nightly")) == (20.0, 2.0, 0.0)


def test_gpu_tasks_take_an_instance_each_when_the_type_has_one_gpu():
    # 2 tasks of 1 vCPU / 4 GB / 1 GPU: by vCPU and memory both fit one g5.xlarge (4 vCPU, 16 GB),
    # but it has 1 GPU, so ECS places one task per instance: 2 x 730 h x $1.123 = $1,639.58.
    def edit(data):
        with_gpu(data)
        data["services"]["ml"].update(cpu=1024, memory=4096, desired_count=2)
    (instances, _volumes) = [line for line in lines_of(ec2_lines, edited("prod", edit)).lines if line.item.startswith("gpu: ")]
    assert (instances.item, round(instances.monthly, 2)) == ("gpu: g5.xlarge (1 GPU) on-demand x 2 (min 2, max 2)", 1639.58)


def test_task_storage_is_not_offered_as_a_spot_saving():
    from review.budget import spot_savings

    config = edited("dev", lambda d: d["services"]["api"].update(
        ephemeral_storage=200, desired_count=3, autoscaling=None, capacity=[{"provider": "fargate", "weight": 1}]))
    cost = estimate_cost(config, plan_of(config), EU, UsageFile(Usage(), ORIGIN))
    tasks = sum(line.monthly for line in cost.lines if line.component == "service api" and line.unit == "task-h")
    (saving,) = spot_savings(config, cost, 0.7)
    # a third of the 3 tasks' on-demand cost at 70% off; the storage line (180 GB x 3 x 730 h) is not in it
    assert saving.monthly == pytest.approx(tasks * (3 - 1) / 2 / 3 * 0.7)


def test_a_before_job_says_when_it_runs():
    config = edited("dev", with_job(before=["api", "worker"], capacity=[{"provider": "fargate", "weight": 1}]))
    assert lines_of(job_lines, config).assumptions[0].startswith(
        f"job batch (runs before api, worker roll out): 0 runs a month (default; set jobs.batch.runs_per_month in {ORIGIN})"
    )


def test_a_job_on_an_instance_type_the_table_does_not_price_is_noted_not_estimated():
    # g6.xlarge is a known type (configs/instance_types.json) without an eu-west-1 price.
    def edit(data):
        with_gpu(data)
        data["cluster"]["capacity"]["ec2"]["gpu"]["instance_types"] = ["g6.xlarge"]
        with_job(cpu=2048, memory=8192, gpu=1, capacity=[{"provider": "gpu", "weight": 1}])(data)
    built = lines_of(job_lines, edited("prod", edit), Usage(jobs={"batch": JobUsage(runs_per_month=10, minutes=60)}))
    assert [line for line in built.lines if line.component == "job batch"] == []
    assert built.notes == ["job batch: no price or size for g6.xlarge in the eu-west-1 table; its runs on gpu not estimated"]
    assert built.assumptions[-1] == (
        "jobs on EC2: the instances the task occupies for the run's minutes at on-demand rates (the instances "
        "managed scaling launches and keeps briefly around a run, and room on instances services keep, not counted)"
    )


def test_a_job_provider_without_a_share_leaves_the_next_ones_line():
    # weight 0 and no base: the job's one task runs on Spot; the runs come from the usage file.
    config = edited("dev", with_job(capacity=[{"provider": "fargate", "weight": 0}, {"provider": "fargate_spot", "weight": 1}]))
    built = lines_of(job_lines, config, Usage(jobs={"batch": JobUsage(runs_per_month=4, minutes=30)}))
    assert [(line.item, line.quantity) for line in built.lines] == [("Fargate Spot 0.25 vCPU / 0.5 GB x86_64: 4 runs x 30 min (max 4 x 60 min)", 2.0)]
    assert built.assumptions == [f"job batch (one-off): 4 runs a month (from {ORIGIN}), 30 minutes a run (from {ORIGIN})"]
