"""Property: for any environment file, a clean refusal or a successful plan.

Hypothesis takes a reference environment and puts hostile values at the paths it has (huge,
invisible, negative, wildcard, malformed ARNs, names at AWS's length limits, many statements,
duplicates), then runs what `pulumi up` runs: the loader and the program, under the offline
mocks. Either the loader refuses with a ConfigError before a single resource is registered,
each issue with a file, a line and a short excerpt, or the program completes. Any other
exception (a KeyError in a component, AWS's own size errors) fails the test.

Derandomized with a fixed example budget, so CI sees the same files every run in a few seconds.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.environment import create_environment, stack_outputs
from configs.errors import ConfigError
from configs.loader import CONFIG_DIR, load_environment
from review.offline import install_mocks
from tests.configs.cases import REFERENCE_FILES, TODAY

BUDGET = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
REFERENCE_DATA = {name: yaml.safe_load((CONFIG_DIR / name).read_text()) for name in REFERENCE_FILES}
# Longest line a report may print: the message, the path and a short excerpt, never a value.
MAX_REPORT_LINE = 700

HOSTILE_TEXT = [
    "x" * 5000,
    "a" * 65,
    "api\u200b",
    "\u202eipa",
    "*",
    "arn:aws:sgs:eu-west-1:123456789012:x",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",
    "arn:aws:secretsmanager:us-east-1:999999999999:secret:db-AbCdEf",
    "arn:aws:kms:eu-west-1:123456789012:key/*",
    "arn:aws:sqs:eu-west-1:210987654321:orders",
    "arn:aws:s3:::*",
    "arn:aws",
    "../../../etc/passwd",
    "/",
    "/api/" + "a" * 130,
    "/api/<script>",
    "nginx:1.25 latest",
    "nginx@sha256:abc",
    "UPPER",
    "0",
    "root",
    "line\nbreak",
    "eu-west-1z",
    "10.0.0.0/28",
    "0.0.0.0/0",
]
HOSTILE_NUMBERS = [0, -1, 1, 2**31, 2**63, 50000, 65536, 3, 100]
hostile_scalars = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
    st.booleans(),
    st.none(),
)


def statements(count: int) -> list[dict[str, Any]]:
    return [
        {"actions": ["s3:GetObject"], "resources": [f"arn:aws:s3:::bucket-{index:04d}-with-a-long-name/*"]}
        for index in range(count)
    ]


hostile_values = st.one_of(
    hostile_scalars,
    st.lists(hostile_scalars, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(HOSTILE_TEXT[:6] + ["cpu", "user", "paths"]), hostile_scalars, max_size=2),
    st.integers(60, 120).map(statements),
    st.just([{"service": "worker", "port": 9000}] * 2),
    st.just({"write": ["arn:aws:sgs:eu-west-1:123456789012:x"]}),
    st.just({"paths": ["/a"] * 3, "priority": 10}),
)


def paths_of(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        if prefix + (key,) != ("extends",):
            found.append(prefix + (key,))
        found.extend(paths_of(value, prefix + (key,)))
    return found


# Keys of a service where a value reaches AWS names, policies and task definitions.
SERVICE_KEYS = (
    "image", "user", "permissions", "access", "secrets", "environment", "expose", "connects_to",
    "command", "cpu", "memory", "port", "health_check", "autoscaling", "desired_count",
)


@st.composite
def hostile_environment(draw: st.DrawFn) -> tuple[str, dict]:
    """A reference file with one or two values replaced: anywhere it has a value, or at a key
    of one of its services."""
    name = draw(st.sampled_from(("dev.yaml", "staging.yaml", "prod.yaml", "base.yaml")))
    data = copy.deepcopy(REFERENCE_DATA[name])
    services = sorted(data.get("services", {}))
    for _ in range(draw(st.integers(1, 2))):
        if services and draw(st.booleans()):
            path = ("services", draw(st.sampled_from(services)), draw(st.sampled_from(SERVICE_KEYS)))
        else:
            path = draw(st.sampled_from(paths_of(data)))
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = copy.deepcopy(draw(hostile_values))  # st.just gives one shared object
    return name, data


def plan_or_refusal(path: Path, stack: str) -> tuple[list[str], int]:
    """(report lines, resources registered) of running the program as `pulumi up` does, with
    the credentials of the reference file's account."""
    aws = REFERENCE_DATA[f"{stack}.yaml"]["aws"]
    monitor = install_mocks(stack, aws["account_id"], aws["region"])
    report: list[str] = []

    @pulumi.runtime.test
    def program():
        try:
            config = load_environment(path, stack=stack, today=TODAY)
        except ConfigError as error:
            report.extend(str(issue) for issue in error.issues)
            return None
        return pulumi.Output.from_input(stack_outputs(create_environment(config)))

    program()
    return report, len(monitor.captured)


@pytest.fixture
def environment_dir(tmp_path: Path) -> Path:
    for name in REFERENCE_FILES:
        (tmp_path / name).write_text((CONFIG_DIR / name).read_text())
    return tmp_path


def with_service_value(name: str, service: str, key: str, value: Any) -> tuple[str, dict]:
    data = copy.deepcopy(REFERENCE_DATA[name])
    data["services"][service][key] = value
    return name, data


@BUDGET
@given(case=hostile_environment())
# Classes found by this test before the loader refused them: an unknown service in an ARN was a
# KeyError in policy_sentry; 120 statements were IAM's PolicyTooLargeError in the component.
@example(case=with_service_value("dev.yaml", "api", "access", {"write": ["arn:aws:sgs:eu-west-1:111111111111:x"]}))
@example(case=with_service_value("dev.yaml", "api", "permissions", statements(120)))
def test_hostile_values_give_a_clean_refusal_or_a_plan(environment_dir: Path, case: tuple[str, dict]) -> None:
    name, data = case
    (environment_dir / name).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    target = "dev.yaml" if name == "base.yaml" else name
    try:
        report, registered = plan_or_refusal(environment_dir / target, target.removesuffix(".yaml"))
    finally:
        (environment_dir / name).write_text((CONFIG_DIR / name).read_text())
    if report:
        assert registered == 0, f"{registered} resources registered before the refusal"
        for line in report:
            file, line_number = line.split(":")[:2]
            assert file.endswith((name, target)) and int(line_number) >= 1, line
            assert len(line) <= MAX_REPORT_LINE, line[:200]
    else:
        assert registered > 0
