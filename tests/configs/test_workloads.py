"""Bad input about what runs in a task (sidecars; volumes, jobs and the rest as they land):
one report with every problem, each with file:line, YAML path, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.configs.cases import issue_lines
from tests.configs.test_bad_input import workdir  # noqa: F401 (fixture)

SIDECARS = """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform}
network: {nat: none}
services:
  api:
    image: {uri: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/api:v1"}
    cpu: 256
    memory: 512
    port: 8080
    user: "10001"
    sidecars:
      api:
        image: {uri: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x:v1"}
        memory: 64
        user: "10001"
      proxy:
        image: {uri: "public.ecr.aws/envoy/envoy:v1.30"}
        cpu: 200
        memory: 400
        port: 8080
        user: "10001"
        depends_on: {api: HEALTHY, ghost: START, proxy: START, log: COMPLETE}
        environment: {API_TOKEN: abc}
      log:
        image: {repository: nowhere, tag: v1}
        memory: 16
        user: "10002"
        depends_on: {proxy: START}
"""


def test_every_sidecar_problem_is_reported_at_once(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(SIDECARS)
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:12: services.api.sidecars: the sidecars reserve 200 of the task's 256 CPU units, leaving the main "
        "container 56; it needs at least 128: raise cpu or lower the sidecars' cpu",
        "env.yaml:12: services.api.sidecars: the sidecars reserve 480 of the task's 512 MiB, leaving the main "
        "container 32; it needs at least 128 MiB: raise memory or lower the sidecars' memory",
        "env.yaml:13: services.api.sidecars.api: 'api' is the main container's name (the service's key); rename the sidecar",
        "env.yaml:18: services.api.sidecars.proxy.image.uri: 'public.ecr.aws/envoy/envoy:v1.30' is outside ECR in "
        "eu-west-1, and with network.nat: none the tasks reach only the VPC endpoints; mirror it into a "
        "registry.repositories entry (or an ECR pull-through cache) or give the network a NAT gateway",
        "env.yaml:21: services.api.sidecars.proxy.port: port 8080 is already used by api; containers of a task share "
        "its network, so pick another port",
        "env.yaml:23: services.api.sidecars.proxy.depends_on.api: HEALTHY needs a container health check and api has "
        "none; set health_check.command",
        "env.yaml:23: services.api.sidecars.proxy.depends_on.ghost: 'ghost' is not a container of this task; "
        "containers: api, proxy, log",
        "env.yaml:23: services.api.sidecars.proxy.depends_on.log: COMPLETE waits for log to exit, and ECS refuses it "
        "on an essential container; set sidecars.log.essential: false or wait for START",
        "env.yaml:23: services.api.sidecars.proxy.depends_on.proxy: a container cannot wait for itself; remove this entry",
        "env.yaml:24: services.api.sidecars.proxy.environment.API_TOKEN: API_TOKEN looks like a credential; plain "
        "environment values show in the console and task definition, so move it to secrets",
        "env.yaml:26: services.api.sidecars.log.image.repository: 'nowhere' is not in registry.repositories (none "
        "declared); declare it or use image.uri",
        "env.yaml:29: services.api.sidecars.log.depends_on: the sidecars wait for each other in a circle "
        "(log -> proxy -> log); no container would start",
    ]


@pytest.mark.parametrize(
    ("sidecar", "expected"),
    [
        ('{image: {uri: "nginx:1.25"}, memory: 64, user: "0"}', "services.api.sidecars.s.user: containers must not run as root; use a uid such as 1000"),
        ('{image: {uri: "nginx:1.25"}, memory: 64}', "services.api.sidecars.s.user: missing required key 'user'"),
        ('{image: {uri: "nginx:latest"}, memory: 64, user: "1"}', "services.api.sidecars.s.image.uri: `latest` is mutable and cannot be rolled back; pin a version tag or an @sha256 digest"),
        ('{image: {uri: "nginx:1.25"}, memory: 64, user: "1", depends_on: {api: READY}}', "services.api.sidecars.s.depends_on.api: input should be 'START', 'HEALTHY', 'COMPLETE' or 'SUCCESS' (got 'READY')"),
    ],
    ids=["root", "no_user", "latest", "unknown_condition"],
)
def test_sidecar_fields_are_validated_like_the_main_containers(workdir: Path, sidecar: str, expected: str) -> None:
    (workdir / "env.yaml").write_text(
        "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\nservices:\n  api:\n"
        '    image: {uri: "nginx:1.25"}\n    cpu: 256\n    memory: 512\n    user: "10001"\n'
        f"    sidecars:\n      s: {sidecar}\n"
    )
    [line] = issue_lines(Path("env.yaml"))
    assert line == "env.yaml:11: " + expected


VOLUMES = """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform}
cluster:
  exec: {enabled: true}
  capacity: {ec2: {general: {instance_types: [m6i.large]}}}
services:
  api:
    image: {uri: "nginx:1.25"}
    cpu: 256
    memory: 512
    user: "10001"
    capacity: [{provider: general}]
    ephemeral_storage: 50
    volumes:
      ssm-agent-logs: {path: /logs}
      tmp: {path: /tmp}
      also-tmp: {path: /tmp/}
      ssm: {path: /var/lib/amazon/ssm}
"""


def test_every_volume_problem_is_reported_at_once(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(VOLUMES)
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:14: services.api.ephemeral_storage: ephemeral_storage sizes Fargate task storage; on EC2 capacity the "
        "task uses the instance's volume (cluster.capacity.ec2.<name>.root_volume_gb): remove it",
        "env.yaml:16: services.api.volumes.ssm-agent-logs: 'ssm-agent-logs' is the name of ECS Exec's own volume; rename it",
        "env.yaml:18: services.api.volumes.also-tmp.path: /tmp/ is already mounted by volume tmp; ECS refuses two mounts on one path",
        "env.yaml:19: services.api.volumes.ssm.path: /var/lib/amazon/ssm is already mounted by ECS Exec's writable path; "
        "ECS refuses two mounts on one path",
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    ephemeral_storage: 20", "services.api.ephemeral_storage: input should be greater than or equal to 21 (got 20)"),
        ("    ephemeral_storage: 201", "services.api.ephemeral_storage: input should be less than or equal to 200 (got 201)"),
        ("    volumes: {tmp: {path: tmp}}", "services.api.volumes.tmp.path: 'tmp' is not valid: use an absolute path inside the container, such as /tmp"),
    ],
    ids=["storage_below_21", "storage_above_200", "relative_path"],
)
def test_volume_fields(workdir: Path, line: str, expected: str) -> None:
    (workdir / "env.yaml").write_text(
        "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\nservices:\n  api:\n"
        f'    image: {{uri: "nginx:1.25"}}\n    cpu: 256\n    memory: 512\n    user: "10001"\n{line}\n'
    )
    assert issue_lines(Path("env.yaml")) == ["env.yaml:10: " + expected]


JOBS = """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform}
deploys: ci
services:
  api:
    image: {uri: "nginx:1.25"}
    cpu: 256
    memory: 512
    user: "10001"
jobs:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
  nightly:
    image: {repository: reports, tag: v1}
    user: "10001"
    cpu: 256
    memory: 4096
    schedule: "cron(0 2 * * ? *)"
    timezone: Europe/Atlantis
    before: [api]
  once:
    image: {uri: "nginx:1.25"}
    user: "10001"
    timezone: Europe/Dublin
"""


def test_every_job_problem_is_reported_at_once(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(JOBS)
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:12: jobs.api: 'api' is also a service; a job's task definition family and log group would be the "
        "service's (dev-api, /ecs/dev/api): rename the job",
        "env.yaml:16: jobs.nightly.image.repository: 'reports' is not in registry.repositories (none declared); "
        "declare it or use image.uri",
        "env.yaml:19: jobs.nightly.memory: 4096 is not valid with cpu 256 on Fargate; use 512, 1024, 2048",
        "env.yaml:21: jobs.nightly.timezone: 'Europe/Atlantis' is not an IANA time zone; use a name such as "
        "Europe/Dublin or UTC",
        "env.yaml:22: jobs.nightly.before[0]: before: applies to deploys: pulumi only; with deploys: ci the "
        "application pipeline runs the job before it deploys api: remove this entry and give app-deploy.yml the "
        "before-* inputs that `python3 run.py ci-role dev` prints for nightly",
        "env.yaml:26: jobs.once.timezone: a timezone applies to a schedule and this job has none; remove it",
    ]


def test_a_schedule_must_be_a_scheduler_expression(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(
        "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\njobs:\n  nightly:\n"
        '    image: {uri: "nginx:1.25"}\n    user: "10001"\n    schedule: "0 2 * * *"\n'
    )
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:8: jobs.nightly.schedule: '0 2 * * *' is not valid: use an EventBridge Scheduler expression: "
        "cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 2 * * ? *), or rate(value unit), "
        "e.g. rate(15 minutes)"
    ]
