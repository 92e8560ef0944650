"""One report holds every problem: field errors and cross-field checks together, in one run;
and "did you mean" only names a key of the same section that the typo is close to."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.model import Service
from tests.configs.cases import issue_lines

HEADER = "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_five_mistakes_of_both_kinds_are_reported_in_one_run(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(HEADER + """\
logs: {retention_days: 45}
network: {nat: two, availability_zones: 2}
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 300
    memroy: 512
    memory: 512
    port: 80
    expose: {paths: [/a], priority: 10}
  web:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    port: 80
    expose: {paths: [/b], priority: 10}
""")
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:4: logs.retention_days: 45 is not a retention CloudWatch Logs accepts; use one of "
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
        "env.yaml:5: network.nat: input should be 'none', 'single' or 'per_az' (got 'two')",
        "env.yaml:10: services.api.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384",
        "env.yaml:11: services.api.memroy: unknown key 'memroy'; did you mean 'memory'?",
        "env.yaml:21: services.web.expose.priority: priority 10 is already used by api; listener rule priorities are unique",
    ]


def test_a_service_left_out_for_its_field_error_is_not_reported_again_by_references(workdir: Path) -> None:
    """worker misses memory: the field error is reported, api's connects_to to worker is not
    (worker exists, it is only invalid), and api's own cross-field problem still is."""
    (workdir / "env.yaml").write_text(HEADER + """\
services:
  worker:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    port: 9000
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 700
    connects_to: [{service: worker, port: 9000}]
""")
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:5: services.worker.memory: missing required key 'memory'",
        "env.yaml:14: services.api.memory: 700 is not valid with cpu 256 on Fargate; use 512, 1024, 2048",
    ]


def test_a_value_falling_back_to_its_default_raises_no_second_problem(workdir: Path) -> None:
    """`nat: 1` is refused; the checks run with the default (per_az), whose problem with one
    zone would only echo the field error, so it is not reported."""
    (workdir / "env.yaml").write_text(HEADER + "network: {nat: 1, availability_zones: 1}\nlogs: {retention_days: 45}\n")
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:4: network.nat: input should be 'none', 'single' or 'per_az' (got 1)",
        "env.yaml:5: logs.retention_days: 45 is not a retention CloudWatch Logs accepts; use one of "
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ]


SERVICE = 'services:\n  api:\n    image: {uri: "nginx:1.25"}\n    user: "10001"\n    cpu: 256\n    memory: 512\n'
# Every key of a service, as the report lists them (the model grows as sections are added).
SERVICE_KEYS = ", ".join(sorted((field.alias or name) for name, field in Service.model_fields.items()))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    accelerators: 1", f"unknown key 'accelerators'; valid keys here: {SERVICE_KEYS}"),
        ("    containers: {}", f"unknown key 'containers'; valid keys here: {SERVICE_KEYS}"),
        ("    priority: 10", "unknown key 'priority' here; it belongs under services.<name>.expose"),
        ("    min_size: 1", "unknown key 'min_size' here; it belongs under cluster.capacity.ec2.<name>"),
        ("    retention_days: 7", "unknown key 'retention_days'; did you mean 'log_retention_days'?"),
        ("    prot: 80", "unknown key 'prot'; did you mean 'port'?"),
        ("    imgae: {}", "unknown key 'imgae'; did you mean 'image'?"),
    ],
    ids=["accelerators_is_not_close_to_any_key", "containers_is_not_close_to_any_key", "priority_belongs_to_expose", "min_size_belongs_to_ec2",
         "typo_of_a_longer_key", "prot", "imgae"],
)
def test_did_you_mean_names_only_a_close_key_of_the_same_section(workdir: Path, line: str, message: str) -> None:
    (workdir / "env.yaml").write_text(HEADER + SERVICE + line + "\n")
    key = line.split(":")[0].strip()
    assert issue_lines(Path("env.yaml")) == [f"env.yaml:10: services.api.{key}: {message}"]
