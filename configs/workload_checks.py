"""Rules about what runs inside a task: sidecars (and, as they land, volumes, jobs, Service
Connect, queue scaling and GPUs). Kept apart from configs/checks.py, which the loader runs
first; each check yields (YAML path, message) like those.
"""

from __future__ import annotations

import datetime
from typing import Iterator, Optional

from configs.aws_limits import FARGATE_MEMORY_BY_CPU, FARGATE_PROVIDERS, describe_fargate_memory
from configs.errors import excerpt
from configs.instance_types import instance_type, is_gpu_provider
from configs.model import EnvironmentConfig, HealthCheck, Job, Task
from configs.schedules import cron_problem, iana_time_zones
from configs.service_connect import check_proxy_room
from configs.storage_checks import STORAGE_CHECKS

Problem = tuple[tuple, str]

# What the sidecars must leave the main container: a sidecar that takes nearly all of the task
# starves the application it serves. 128 CPU units (1/8 vCPU) and 128 MiB are the smallest
# Fargate-era sizes any of our reference applications starts in.
MAIN_CONTAINER_MIN_CPU = 128
MAIN_CONTAINER_MIN_MEMORY = 128

# ECS refuses these conditions on an essential container: it must exit for them to be met.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
EXIT_CONDITIONS = ("COMPLETE", "SUCCESS")


def task_sections(config: EnvironmentConfig) -> Iterator[tuple[tuple, Task, Optional[HealthCheck], Optional[int]]]:
    """Every task of the environment with its YAML path, its main container's health check and
    port: the services', then the jobs' (which have neither)."""
    for key, service in config.services.items():
        yield ("services", key), service, service.health_check, service.port
    for key, job in config.jobs.items():
        yield ("jobs", key), job, None, None


def check_sidecars(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for path, task, health_check, port in task_sections(config):
        main = path[-1]
        yield from _sidecar_names_and_ports(path, task, main, port)
        yield from _dependencies(path, task, main, health_check)
        yield from _carve_out(path, task)
        for name, sidecar in task.sidecars.items():
            here = path + ("sidecars", name)
            repository = sidecar.image.repository
            if repository is not None and repository not in config.registry.repositories:
                yield here + ("image", "repository"), (
                    f"{repository!r} is not in registry.repositories "
                    f"({', '.join(sorted(config.registry.repositories)) or 'none declared'}); declare it or use image.uri"
                )
            # credential-looking names: check_environment_variables (configs/checks.py), every container


def check_images_reachable(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """With `nat: none` the tasks reach nothing but the VPC endpoints: a sidecar image can come
    only from ECR in this region (the ecr.dkr endpoint), never from Docker Hub or public.ecr.aws.
    (Main images are not judged here yet: the review's scenarios add public main images to dev.)"""
    if config.network.nat != "none":
        return
    for path, task, _check, _port in task_sections(config):
        for name, sidecar in task.sidecars.items():
            uri = sidecar.image.uri
            if uri is not None and not _regional_ecr(uri, config.aws.region):
                yield path + ("sidecars", name, "image", "uri"), (
                    f"{excerpt(uri)} is outside ECR in {config.aws.region}, and with network.nat: none the tasks "
                    "reach only the VPC endpoints; mirror it into a registry.repositories entry (or an ECR pull-through "
                    "cache) or give the network a NAT gateway"
                )


def _regional_ecr(uri: str, region: str) -> bool:
    host = uri.split("/", 1)[0]
    return host.endswith(f".dkr.ecr.{region}.amazonaws.com") or host.endswith(f".dkr.ecr.{region}.amazonaws.com.cn")


# ECS Exec's writable paths get these volume names (components/task.py EXEC_WRITABLE_PATHS).
EXEC_VOLUMES = {"ssm-agent-state": "/var/lib/amazon/ssm", "ssm-agent-logs": "/var/log/amazon/ssm"}


def check_volumes(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    exec_on = config.cluster.exec.enabled
    for path, task, _check, _port in task_sections(config):
        paths: dict[str, str] = {}
        if exec_on and task.read_only_root_filesystem:
            paths.update({mount: name for name, mount in EXEC_VOLUMES.items()})
        for name, volume in task.volumes.items():
            here = path + ("volumes", name)
            if name in EXEC_VOLUMES:
                yield here, f"{name!r} is the name of ECS Exec's own volume; rename it"
                continue
            owner = paths.setdefault(volume.path.rstrip("/") or "/", name)
            if owner != name:
                what = "ECS Exec's writable path" if owner in EXEC_VOLUMES else f"volume {owner}"
                yield here + ("path",), f"{volume.path} is already mounted by {what}; ECS refuses two mounts on one path"
        if task.ephemeral_storage is not None and config.uses_ec2(path[1]):
            yield path + ("ephemeral_storage",), (
                "ephemeral_storage sizes Fargate task storage; on EC2 capacity the task uses the instance's volume "
                "(cluster.capacity.ec2.<name>.root_volume_gb): remove it"
            )


def _sidecar_names_and_ports(path: tuple, task: Task, main: str, port: Optional[int]) -> Iterator[Problem]:
    # The containers of an awsvpc task share one network namespace: two cannot bind one port.
    ports: dict[int, str] = {port: main} if port is not None else {}
    for name, sidecar in task.sidecars.items():
        if name == main:
            yield path + ("sidecars", name), (
                f"{name!r} is the main container's name (the {path[0][:-1]}'s key); rename the sidecar"
            )
        if sidecar.port is not None:
            owner = ports.setdefault(sidecar.port, name)
            if owner != name:
                yield path + ("sidecars", name, "port"), (
                    f"port {sidecar.port} is already used by {owner}; containers of a task share its network, "
                    "so pick another port"
                )


def _dependencies(path: tuple, task: Task, main: str, health_check: Optional[HealthCheck]) -> Iterator[Problem]:
    containers = [main, *(name for name in task.sidecars if name != main)]
    for name, sidecar in task.sidecars.items():
        for target, condition in sidecar.depends_on.items():
            here = path + ("sidecars", name, "depends_on", target)
            if target == name:
                yield here, "a container cannot wait for itself; remove this entry"
            elif target not in containers:
                yield here, f"{target!r} is not a container of this task; containers: {', '.join(containers)}"
            elif condition in EXIT_CONDITIONS and (target == main or task.sidecars[target].essential):
                yield here, (
                    f"{condition} waits for {target} to exit, and ECS refuses it on an essential container; "
                    f"set sidecars.{target}.essential: false or wait for START"
                )
            elif condition == "HEALTHY" and not (target == main and health_check is not None and health_check.command):
                yield here, (
                    f"HEALTHY needs a container health check and {target} has none; "
                    + ("set health_check.command" if target == main else "wait for START")
                )
    cycle = _dependency_cycle(task)
    if cycle:
        yield path + ("sidecars", cycle[0], "depends_on"), (
            f"the sidecars wait for each other in a circle ({' -> '.join(cycle)}); no container would start"
        )


def _dependency_cycle(task: Task) -> list[str]:
    """The first cycle among the sidecars' depends_on (the main container waits for none)."""
    edges = {
        name: [t for t in sidecar.depends_on if t in task.sidecars and t != name]  # waiting for itself: reported apart
        for name, sidecar in task.sidecars.items()
    }
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> list[str]:
        if state.get(name) == 1:
            return trail[trail.index(name):] + [name]
        if state.get(name) == 2:
            return []
        state[name] = 1
        for target in edges[name]:
            found = visit(target, trail + [name])
            if found:
                return found
        state[name] = 2
        return []

    for name in sorted(edges):
        found = visit(name, [])
        if found:
            return found
    return []


def _carve_out(path: tuple, task: Task) -> Iterator[Problem]:
    if not task.sidecars:
        return
    if task.main_cpu < MAIN_CONTAINER_MIN_CPU:
        yield path + ("sidecars",), (
            f"the sidecars reserve {task.cpu - task.main_cpu} of the task's {task.cpu} CPU units, leaving the main "
            f"container {task.main_cpu}; it needs at least {MAIN_CONTAINER_MIN_CPU}: raise cpu or lower the sidecars' cpu"
        )
    if task.main_memory < MAIN_CONTAINER_MIN_MEMORY:
        yield path + ("sidecars",), (
            f"the sidecars reserve {task.memory - task.main_memory} of the task's {task.memory} MiB, leaving the main "
            f"container {task.main_memory}; it needs at least {MAIN_CONTAINER_MIN_MEMORY} MiB: raise memory or lower "
            "the sidecars' memory"
        )


def check_jobs(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for key, job in config.jobs.items():
        path = ("jobs", key)
        if key in config.services:
            yield path, (
                f"{key!r} is also a service; a job's task definition family and log group would be the service's "
                f"({config.environment}-{key}, /ecs/{config.environment}/{key}): rename the job"
            )
        repository = job.image.repository
        if repository is not None and repository not in config.registry.repositories:
            yield path + ("image", "repository"), (
                f"{repository!r} is not in registry.repositories "
                f"({', '.join(sorted(config.registry.repositories)) or 'none declared'}); declare it or use image.uri"
            )
        if not config.uses_ec2(key):
            yield from _fargate_size(path, job.cpu, job.memory)
        if job.timezone not in iana_time_zones():
            yield path + ("timezone",), f"{excerpt(job.timezone)} is not an IANA time zone; use a name such as Europe/Dublin or UTC"
        if job.schedule is None and job.timezone != "UTC":
            yield path + ("timezone",), "a timezone applies to a schedule and this job has none; remove it"
        yield from _before(config, key, job, path)


def _before(config: EnvironmentConfig, key: str, job: Job, path: tuple) -> Iterator[Problem]:
    """`before: [service]` runs the job during `pulumi up` (components/job.py), so it needs
    `deploys: pulumi`; under `deploys: ci` the application pipeline runs it instead."""
    seen: set[str] = set()
    for index, service in enumerate(job.before):
        if config.deploys == "ci":
            yield path + ("before", index), (
                f"before: applies to deploys: pulumi only; with deploys: ci the application pipeline runs the job before "
                f"it deploys {service}: remove this entry and give app-deploy.yml the before-* inputs that "
                f"`python3 run.py ci-role {config.environment}` prints for {key}"
            )
        elif service not in config.services:
            yield path + ("before", index), (
                f"{service!r} is not a service of this environment; services: {', '.join(sorted(config.services)) or 'none'}"
            )
        elif service in seen:
            yield path + ("before", index), f"{service!r} is named twice; remove one"
        seen.add(service)


def _fargate_size(path: tuple, cpu: int, memory: int) -> Iterator[Problem]:
    if cpu not in FARGATE_MEMORY_BY_CPU:
        yield path + ("cpu",), f"{cpu} is not a Fargate CPU size; use one of {', '.join(str(c) for c in FARGATE_MEMORY_BY_CPU)}"
    elif memory not in FARGATE_MEMORY_BY_CPU[cpu]:
        yield path + ("memory",), f"{memory} is not valid with cpu {cpu} on Fargate; use {describe_fargate_memory(cpu)}"


def check_job_schedules(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Cron expressions AWS would refuse when the schedule is created (the model's pattern only
    checks their shape): values out of range, both or neither day field `?`."""
    for key, job in config.jobs.items():
        problem = cron_problem(job.schedule) if job.schedule else None
        if problem:
            yield ("jobs", key, "schedule"), (
                f"{excerpt(job.schedule)} is not a cron expression EventBridge Scheduler accepts: {problem}; the fields are "
                "minutes hours day-of-month month day-of-week year, with ? in one of the day fields, e.g. cron(0 2 * * ? *)"
            )


def check_gpu_reservations(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """`gpu: N` reserves N GPUs for the main container: only EC2 providers of GPU types have
    them, and ECS places the task only on an instance with N free GPUs, so every provider of its
    strategy needs a type with at least N (a task no instance can hold stays PROVISIONING)."""
    ec2 = config.cluster.capacity.ec2
    for path, task, _check, _port in task_sections(config):
        if task.gpu is None:
            continue
        here = path + ("gpu",)
        strategy = config.strategy_for(path[1])
        fargate = [entry.provider for entry in strategy if entry.provider in FARGATE_PROVIDERS]
        if fargate:
            source = "its capacity" if task.capacity else "cluster.default_strategy"
            yield here, (
                f"gpu {task.gpu} needs EC2 GPU capacity, but {source} places the task on {', '.join(fargate)}, which "
                f"has no GPUs; {_gpu_capacity_hint(config)}"
            )
            continue
        for entry in strategy:
            provider = ec2.get(entry.provider)
            if provider is None:
                continue  # an undeclared provider: the strategy check names it
            if not is_gpu_provider(provider.instance_types):
                yield here, (
                    f"provider {entry.provider} has no GPU instance types ({', '.join(provider.instance_types)}); "
                    f"{_gpu_capacity_hint(config)}"
                )
                continue
            known = [t for t in map(instance_type, provider.instance_types) if t is not None]
            if len(known) < len(provider.instance_types):
                continue  # a type outside the table may have more GPUs: the loader warns, and cannot judge
            most = max(t.gpus for t in known)
            if task.gpu > most:
                counts = ", ".join(f"{t.name}: {t.gpus}" for t in known)
                yield here, (
                    f"{task.gpu} GPUs are more than any instance type of provider {entry.provider} has ({counts}); "
                    f"reserve at most {most} or add a type with more GPUs, such as g5.12xlarge (4)"
                )


def _gpu_capacity_hint(config: EnvironmentConfig) -> str:
    gpu_providers = sorted(key for key, p in config.cluster.capacity.ec2.items() if is_gpu_provider(p.instance_types))
    if gpu_providers:
        return f"set capacity: [{{provider: {gpu_providers[0]}, weight: 1}}]"
    return "declare an EC2 provider of GPU types (cluster.capacity.ec2.<name>.instance_types: [g5.xlarge]) and name it in capacity"


WORKLOAD_CHECKS = (check_sidecars, check_images_reachable, check_volumes, check_jobs, check_job_schedules, check_gpu_reservations, check_proxy_room, *STORAGE_CHECKS)
