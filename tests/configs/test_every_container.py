"""The container checks cover every container: a service's and a job's main container and their
sidecars. `user` (required, never uid 0 in any spelling), credential-looking variable names and
values, the 64 KiB of container definitions of a whole task, and the execution role's policy
size (the secrets every container references). Exact messages, at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.loader import load_environment
from tests.configs.cases import TODAY, issue_lines

HEADER = "environment: dev\naws: {region: eu-west-1, account_id: \"111111111111\"}\ntags: {team: platform}\n"
JOB = '  report:\n    image: {uri: "nginx:1.25"}\n    user: "10001"\n'
SIDECAR = '    sidecars:\n      log:\n        image: {uri: "nginx:1.25"}\n        memory: 64\n        user: "10001"\n'


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(workdir: Path, text: str) -> list[str]:
    (workdir / "env.yaml").write_text(text)
    return issue_lines(Path("env.yaml"))


def test_a_job_and_a_sidecar_without_user_are_refused(workdir: Path) -> None:
    text = HEADER + "jobs:\n" + JOB.replace('    user: "10001"\n', "") + SIDECAR.replace('        user: "10001"\n', "")
    assert report(workdir, text) == [
        "env.yaml:5: jobs.report.user: missing required key 'user'",
        "env.yaml:8: jobs.report.sidecars.log.user: missing required key 'user'",
    ]


@pytest.mark.parametrize("user", ["00", "000:0", "root:10001"])
def test_uid_0_in_any_spelling_is_root(workdir: Path, user: str) -> None:
    text = HEADER + "jobs:\n" + JOB + SIDECAR.replace('user: "10001"', f'user: "{user}"')
    assert report(workdir, text) == [
        "env.yaml:12: jobs.report.sidecars.log.user: containers must not run as root; use a uid such as 1000"
    ]


def test_credentials_in_a_jobs_and_a_sidecars_plain_values_are_refused(workdir: Path) -> None:
    text = (
        HEADER + "jobs:\n" + JOB + "    environment: {API_TOKEN: abc}\n"
        + SIDECAR + "        environment: {DB_PASSWORD: hunter2}\n        secrets: {DB_PASSWORD: {parameter: /dev/db}}\n"
    )
    assert report(workdir, text) == [
        "env.yaml:8: jobs.report.environment.API_TOKEN: API_TOKEN looks like a credential; plain environment values "
        "show in the console and task definition, so move it to secrets",
        "env.yaml:14: jobs.report.sidecars.log.environment.DB_PASSWORD: DB_PASSWORD is also in secrets; keep one",
        "env.yaml:14: jobs.report.sidecars.log.environment.DB_PASSWORD: DB_PASSWORD looks like a credential; plain "
        "environment values show in the console and task definition, so move it to secrets",
    ]


def test_a_credential_in_a_jobs_command_is_refused(workdir: Path) -> None:
    text = HEADER + "jobs:\n" + JOB + '    command: ["sync", "--key", "AKIAIOSFODNN7EXAMPLE"]\n'
    [issue] = report(workdir, text)
    assert issue.startswith("env.yaml:8: jobs.report.command[2]: the command ")
    assert issue.endswith("; pass it through secrets instead")


def test_the_64_kib_count_every_container_of_a_task(workdir: Path) -> None:
    """34,000 bytes in the job and 34,000 in its sidecar: neither alone, both together over 64 KiB
    (the rest of the 68,850: names, images, log options, hardening of both containers)."""
    half = "x" * 34000
    text = HEADER + "jobs:\n" + JOB + f"    environment: {{BIG: {half}}}\n" + SIDECAR + f"        environment: {{LARGE: {half}y}}\n"
    assert report(workdir, text) == [
        "env.yaml:14: jobs.report.sidecars.log.environment: the container definitions (2 containers) would hold 68850 "
        "bytes, over the 65536 (64 KiB) ECS accepts for a task; move large environment values to a file in S3 or to secrets"
    ]
    alone = HEADER + "jobs:\n" + JOB + f"    environment: {{BIG: {half}}}\n"
    (workdir / "env.yaml").write_text(alone)
    assert load_environment(Path("env.yaml"), today=TODAY).jobs["report"].environment["BIG"] == half


def test_the_execution_role_policy_counts_every_containers_secrets(workdir: Path) -> None:
    secrets = "".join(
        f"          S{i}: {{secret: \"arn:aws:secretsmanager:eu-west-1:111111111111:secret:dev/report/value-{i:03d}-AbCdEf\"}}\n"
        for i in range(130)
    )
    text = HEADER + "jobs:\n" + JOB + SIDECAR + "        secrets:\n" + secrets
    assert report(workdir, text) == [
        "env.yaml:13: jobs.report.sidecars.log.secrets: the execution role's policy (the secrets and parameters of "
        "every container, their keys) is 11181 characters, over IAM's 10240 for a role's inline policies; reference "
        "fewer secrets (one secret can hold many values: use key: to pick one)"
    ]
