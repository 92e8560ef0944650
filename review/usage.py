"""What the cost estimate cannot read from the config: traffic, log volume, the expected task
count between the autoscaling bounds, job runs. Like Infracost's usage file, it is optional
(`configs/usage/<env>.yaml`); every figure has a default stated here once, and the plan's
"assumptions" section says which figures are defaults and which come from the file.

The file is validated like the environment file: one report of every problem, each with
file:line and YAML path, before the program runs (review/workflow.py).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from configs.errors import ConfigError, ConfigIssue
from configs.loader import CONFIG_DIR, _display_name, _issue_at, _message, _yaml_path
from configs.model import EnvironmentConfig
from configs.yaml_source import Source, read_yaml

USAGE_DIR = CONFIG_DIR / "usage"

Gb = Annotated[float, Field(ge=0, le=10_000_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceUsage(_Strict):
    expected_tasks: Optional[Annotated[int, Field(ge=0, le=10000)]] = Field(
        default=None,
        description="Tasks running on average, between autoscaling.min and autoscaling.max (default: desired_count).",
    )


class JobUsage(_Strict):
    minutes: Optional[Annotated[float, Field(ge=0, le=525_600)]] = Field(
        default=None,
        description="Minutes one run takes on average (default 10, at most the job's timeout_minutes, which stops a run).",
    )
    runs_per_month: Optional[Annotated[float, Field(ge=0, le=1_000_000)]] = Field(
        default=None,
        description="Runs a month of a one-off job (default 0: it runs only when someone starts it); a scheduled job's "
        "runs follow from its schedule.",
    )


class Usage(_Strict):
    """Monthly usage of one environment. None means: the default of the environment's shape."""

    nat_gb: Optional[Gb] = Field(default=None, description="GB processed by all NAT gateways (default 20 when there is one).")
    endpoint_gb: Optional[Gb] = Field(default=None, description="GB through interface endpoints (default 10 when there are any).")
    internet_egress_gb: Optional[Gb] = Field(default=None, description="GB sent to the internet (default 10).")
    cross_az_gb: Optional[Gb] = Field(default=None, description="GB sent between zones (default 10 with 2 or more zones).")
    alb_lcu: Optional[Annotated[float, Field(ge=0, le=100_000)]] = Field(
        default=None, description="Average ALB capacity units (default 1 for production, 0.1 otherwise: quiet ALBs use 0.05-0.8)."
    )
    log_gb_per_task: Optional[Gb] = Field(default=None, description="GB of application logs per running task (default 1).")
    flow_log_gb: Optional[Gb] = Field(default=None, description="GB of VPC flow-log records (default 5).")
    ecr_gb: Optional[Gb] = Field(default=None, description="GB of images stored in all repositories (default 1 per repository).")
    services: dict[str, ServiceUsage] = Field(default_factory=dict, description="Per service key.")
    jobs: dict[str, JobUsage] = Field(default_factory=dict, description="Per job key.")


# The defaults above, as figures (a None in Usage means "this default").
DEFAULT_NAT_GB = 20.0
DEFAULT_ENDPOINT_GB = 10.0
DEFAULT_INTERNET_EGRESS_GB = 10.0
DEFAULT_CROSS_AZ_GB = 10.0
DEFAULT_ALB_LCU_PRODUCTION = 1.0
DEFAULT_ALB_LCU_OTHER = 0.1
DEFAULT_LOG_GB_PER_TASK = 1.0
DEFAULT_FLOW_LOG_GB = 5.0
DEFAULT_ECR_GB_PER_REPOSITORY = 1.0
DEFAULT_JOB_MINUTES = 10.0  # capped at the job's timeout_minutes
DEFAULT_ONE_OFF_RUNS = 0.0


@dataclass(frozen=True)
class UsageFile:
    """The validated usage and where it came from ("defaults" when there is no file)."""

    usage: Usage
    origin: str

    def given(self, field: str) -> bool:
        return getattr(self.usage, field) is not None

    def figure(self, field: str, default: float) -> float:
        value = getattr(self.usage, field)
        return default if value is None else float(value)

    def says(self, field: str, default: float, text: str, default_is: str = "default") -> str:
        """An assumption line: the figure and whether it is a default (`default_is` says which)
        or the file's."""
        value = self.figure(field, default)
        where = f"from {self.origin}" if self.given(field) else f"{default_is}; set {field} in {self.origin}"
        return f"{text.format(value=f'{value:g}')} ({where})"

    def job(self, key: str) -> JobUsage:
        return self.usage.jobs.get(key, JobUsage())

    def job_minutes(self, key: str, timeout_minutes: int) -> float:
        """Minutes one run of the job takes: the file's, else the default, never above the
        timeout (Step Functions stops the run there)."""
        given = self.job(key).minutes
        return min(DEFAULT_JOB_MINUTES if given is None else given, float(timeout_minutes))

    def one_off_runs(self, key: str) -> float:
        given = self.job(key).runs_per_month
        return DEFAULT_ONE_OFF_RUNS if given is None else given


def usage_path(environment: str) -> Path:
    return USAGE_DIR / f"{environment}.yaml"


def load_usage(config: EnvironmentConfig, path: Optional[Path] = None) -> UsageFile:
    """The environment's usage file, validated against the config; defaults without a file."""
    path = path or usage_path(config.environment)
    origin = _display_name(path.resolve())
    if not path.is_file():
        return UsageFile(Usage(), origin)
    source, issues = read_yaml(path.resolve(), origin)
    if source.data is None and issues:
        raise ConfigError(issues)
    data = {} if source.data is None else source.data
    if not isinstance(data, dict):
        raise ConfigError(issues + [ConfigIssue(*source.location(()), "", "the usage file must be a mapping (nat_gb: 100, services: {...})")])
    try:
        usage = Usage.model_validate(data)
    except pydantic.ValidationError as error:
        raise ConfigError(issues + _schema_issues(error, source)) from None
    problems = issues + [_issue_at(source, where, message) for where, message in _against_config(usage, config)]
    if problems:
        raise ConfigError(problems)
    return UsageFile(usage, origin)


def _schema_issues(error: pydantic.ValidationError, source: Source) -> list[ConfigIssue]:
    issues = []
    for detail in error.errors(include_url=False):
        where = _yaml_path(detail["loc"], source.data, missing=detail["type"] == "missing")
        message = _unknown_key(where) if detail["type"] == "extra_forbidden" else _message(detail, where)
        issues.append(_issue_at(source, where, message))
    return issues


def _unknown_key(where: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Usage
    if len(where) == 3:
        model = ServiceUsage if where[0] == "services" else JobUsage
    valid = sorted(model.model_fields)
    close = difflib.get_close_matches(str(where[-1]), valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"valid keys here: {', '.join(valid)}"
    return f"unknown key {where[-1]!r}; {hint}"


def _against_config(usage: Usage, config: EnvironmentConfig) -> list[tuple[tuple[Any, ...], str]]:
    problems = []
    for key, service_usage in sorted(usage.services.items()):
        service = config.services.get(key)
        if service is None:
            known = ", ".join(sorted(config.services)) or "none"
            problems.append((("services", key), f"no service {key!r} in the environment file (services: {known})"))
            continue
        expected = service_usage.expected_tasks
        low, high = task_bounds(config, key)
        if expected is not None and not low <= expected <= high:
            bounds = f"between autoscaling.min {low} and max {high}" if service.autoscaling else f"desired_count {low} (no autoscaling)"
            problems.append((("services", key, "expected_tasks"), f"{expected} is outside what the service runs: use a count {bounds}"))
    for key, job_usage in sorted(usage.jobs.items()):
        job = config.jobs.get(key)
        if job is None:
            known = ", ".join(sorted(config.jobs)) or "none"
            problems.append((("jobs", key), f"no job {key!r} in the environment file (jobs: {known})"))
            continue
        if job_usage.minutes is not None and job_usage.minutes > job.timeout_minutes:
            problems.append((("jobs", key, "minutes"), (
                f"{job_usage.minutes:g} is longer than the job's timeout_minutes {job.timeout_minutes}, after which a run "
                "is stopped; use a figure up to it (or raise timeout_minutes)"
            )))
        if job_usage.runs_per_month is not None and job.schedule is not None:
            problems.append((("jobs", key, "runs_per_month"), (
                f"{key} runs on its schedule ({job.schedule}), which sets its runs; remove runs_per_month "
                "(it counts runs of one-off jobs)"
            )))
    return problems


def task_bounds(config: EnvironmentConfig, key: str) -> tuple[int, int]:
    """(fewest, most) tasks a service runs: its autoscaling bounds, else its desired count."""
    service = config.services[key]
    if service.autoscaling is None:
        return service.desired_count, service.desired_count
    return service.autoscaling.min, service.autoscaling.max


def expected_tasks(config: EnvironmentConfig, usage: UsageFile, key: str) -> int:
    """The usage file's expected count (kept within the bounds: a diff prices the base ref's
    config with the working tree's file), else desired_count."""
    given = usage.usage.services.get(key)
    if given is not None and given.expected_tasks is not None:
        low, high = task_bounds(config, key)
        return min(max(given.expected_tasks, low), high)
    return config.services[key].desired_count
