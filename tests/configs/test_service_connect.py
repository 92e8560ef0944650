"""`cluster.service_connect` at load time: the namespace is a DNS name (file:line, path, fix),
the proxy's memory inside a task with sidecars is refused when it would starve the main
container, and what is accepted but worth saying (jobs cannot use the names; tasks short of the
proxy's recommended CPU) is a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from configs.loader import load_environment
from tests.configs.cases import TODAY, issue_lines
from tests.configs.test_bad_input import workdir  # noqa: F401 (fixture)

HEAD = """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform}
cluster:
  service_connect: {namespace: NAMESPACE}
"""
SERVICES = """\
services:
  api:
    image: {uri: "nginx:1.25"}
    cpu: 512
    memory: 1024
    port: 8080
    user: "10001"
    connects_to: [{service: worker, port: 9000}]
  worker:
    image: {uri: "nginx:1.25"}
    cpu: 512
    memory: 1024
    port: 9000
    user: "10001"
"""
HINT = (
    "is not valid: use a DNS name such as prod.internal: lowercase labels of letters, digits and hyphens, "
    "separated by dots, none starting or ending with a hyphen"
)


def write(workdir: Path, namespace: str = "dev.internal", services: str = SERVICES, tail: str = "") -> Path:
    (workdir / "env.yaml").write_text(HEAD.replace("NAMESPACE", namespace) + services + tail)
    return Path("env.yaml")


@pytest.mark.parametrize("namespace", ["dev.internal", "internal", "a-b.c1.example", "x" * 63 + ".local"])
def test_dns_names_are_accepted(workdir: Path, namespace: str) -> None:
    config = load_environment(write(workdir, namespace), stack=None, today=TODAY)
    assert config.cluster.service_connect.namespace == namespace


@pytest.mark.parametrize(
    ("namespace", "shown"),
    [
        ("Dev.Internal", "'Dev.Internal'"),
        ("dev_internal", "'dev_internal'"),
        ("-dev.internal", "'-dev.internal'"),
        ("dev-.internal", "'dev-.internal'"),
        ("dev..internal", "'dev..internal'"),
        ("dev.internal.", "'dev.internal.'"),
        ('"dev internal"', "'dev internal'"),
        ("x" * 64 + ".local", "'" + "x" * 64 + ".local'"),
    ],
    ids=["upper", "underscore", "leading-hyphen", "trailing-hyphen", "empty-label", "trailing-dot", "space", "label-64"],
)
def test_a_namespace_that_is_not_a_dns_name_is_refused_with_its_line(workdir: Path, namespace: str, shown: str) -> None:
    assert issue_lines(write(workdir, namespace)) == [f"env.yaml:5: cluster.service_connect.namespace: {shown} {HINT}"]


def test_a_namespace_longer_than_dns_allows_is_refused(workdir: Path) -> None:
    name = ".".join(["a" * 63] * 4)  # 255 characters: labels fine, the name too long
    assert issue_lines(write(workdir, name)) == [
        "env.yaml:5: cluster.service_connect.namespace: string should have at most 253 characters "
        f"(got '{name[:80]}'... (255 characters))"
    ]


def test_service_connect_needs_its_namespace(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(HEAD.replace("{namespace: NAMESPACE}", "{}") + SERVICES)
    assert issue_lines(Path("env.yaml")) == ["env.yaml:5: cluster.service_connect.namespace: missing required key 'namespace'"]


SIDECAR = """\
    sidecars:
      otel:
        image: {uri: "nginx:1.25"}
        memory: 832
        user: "10001"
"""


def test_sidecars_that_leave_no_room_for_the_proxy_are_refused(workdir: Path) -> None:
    """worker: 1024 MiB. A sidecar of 832 leaves the main container 192, and 128 after the
    proxy's 64: exactly the minimum, accepted. A sidecar of 848 leaves 176 (enough without Service
    Connect) but 112 after the proxy: refused, at the task's memory."""
    accepted = write(workdir, services=SERVICES + SIDECAR)
    assert load_environment(accepted, stack=None, today=TODAY).services["worker"].main_memory == 192
    write(workdir, services=SERVICES + SIDECAR.replace("832", "848"))
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:17: services.worker.memory: the sidecars reserve 848 of the task's 1024 MiB and the Service Connect "
        "proxy 64, leaving the main container 112; it needs at least 128 MiB: raise memory to 1040 or lower the "
        "sidecars' memory"
    ]


def test_without_service_connect_the_same_sidecar_is_accepted(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(HEAD.split("cluster:")[0] + SERVICES + SIDECAR.replace("832", "848"))
    assert load_environment(Path("env.yaml"), stack=None, today=TODAY).services["worker"].main_memory == 176


JOB = """\
jobs:
  report:
    image: {uri: "nginx:1.25"}
    user: "10001"
    connects_to: [{service: worker, port: 9000}]
"""


def test_a_job_that_connects_to_a_service_is_warned_that_the_name_does_not_resolve(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="configs"):
        load_environment(write(workdir, tail=JOB), stack=None, today=TODAY)
    assert caplog.messages == [
        "warning: env.yaml:24: jobs.report.connects_to[0]: a job runs with RunTask, which Service Connect does not "
        "support: worker:9000 does not resolve in this job's task (the dev.internal namespace is an HTTP namespace, "
        "with no DNS). The security group rules are open; reach worker through the load balancer (expose) or an "
        "address the job looks up"
    ]


def test_a_task_short_of_the_proxys_recommended_cpu_is_warned(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="configs"):
        load_environment(write(workdir, services=SERVICES.replace("cpu: 512\n    memory: 1024\n    port: 9000", "cpu: 256\n    memory: 1024\n    port: 9000")), stack=None, today=TODAY)
    assert caplog.messages == [
        "warning: env.yaml:16: services.worker.cpu: 256 CPU units are left for the main container and the Service "
        "Connect proxy; AWS recommends adding 256 units to the task for the proxy: consider cpu: 512"
    ]


def test_without_service_connect_nothing_is_warned(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    (workdir / "env.yaml").write_text(HEAD.split("cluster:")[0] + SERVICES.replace("cpu: 512", "cpu: 256") + JOB)
    with caplog.at_level(logging.WARNING, logger="configs"):
        load_environment(Path("env.yaml"), stack=None, today=TODAY)
    assert caplog.messages == []
