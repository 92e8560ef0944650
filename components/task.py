"""One ECS task: its log group, execution and task roles, and the task definition with every
container. Services and jobs both run tasks; this component is what they share, so a container
rule, a role grant or a log setting is written once.

Everything AWS validates about the task definition is built by pure functions
(`container_definition`, `secret_value_from`, `image_repository_arn`) so tests can check them
against botocore's RegisterTaskDefinition shape without Pulumi. The component only registers.

Children and their logical names (`<name>` is the owner's: a service's `<env>-<key>`):

    <name>-logs              aws:cloudwatch/logGroup:LogGroup      /ecs/<env>/<key>
    <name>-execution         aws:iam/role:Role                     (+ <name>-execution-policy)
    <name>-task              aws:iam/role:Role                     only when something is granted
    <name>-task-definition   aws:ecs/taskDefinition:TaskDefinition family <env>-<key>

These children were registered directly under the Service before this component existed;
`previous_parent` gives them an alias to that parent so `pulumi up` moves them, never replaces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from configs.aws_limits import CONTAINER_HEALTH_CHECK_MAX_START_PERIOD
from configs.model import HealthCheck, Image, SecretRef, Sidecar
from configs.model import Task as TaskConfig
from configs.service_connect import APP_PROTOCOL, main_memory_left
from components import iam
from components.arns import log_group_arn
from components.facts import PlatformFacts
from components.logs import log_group, log_group_name
from components.naming import child, family, physical, type_token
from components.registry import repository_name

# ECS Exec's SSM agent writes its state and logs into the container. With a read-only root
# filesystem AWS documents exec as unsupported; the agent works when its paths are writable,
# so they get empty task-scoped volumes (ephemeral, gone with the task). Which paths depends on
# the capacity: on EC2 the ECS agent bind-mounts /var/log/amazon/ssm (and its binaries under
# /managed-agents/execute-command) into the container itself when exec is on, and a second
# mount on that path makes Docker refuse the container ("Duplicate mount point"); on Fargate
# nothing is mounted for us, and the agent also writes under /managed-agents. Bind volumes are root-owned (0755): the image must create these paths
# owned by the container's uid (README: ECS Exec with a read-only root filesystem).
# https://github.com/aws/containers-roadmap/issues/1359
EXEC_WRITABLE_PATHS: dict[str, str] = {
    "ssm-agent-state": "/var/lib/amazon/ssm",
    "ssm-agent-logs": "/var/log/amazon/ssm",
    "ssm-managed-agents": "/managed-agents",
}
EXEC_PATHS_THE_EC2_AGENT_MOUNTS = frozenset({"/var/log/amazon/ssm", "/managed-agents"})


def exec_writable_paths(exec_enabled: bool, read_only_root: bool, uses_ec2: bool) -> dict[str, str]:
    """Volume name -> path of the empty volumes ECS Exec needs in this task (none when exec is
    off or the root filesystem is writable)."""
    if not (exec_enabled and read_only_root):
        return {}
    skip = EXEC_PATHS_THE_EC2_AGENT_MOUNTS if uses_ec2 else frozenset()
    return {volume: path for volume, path in EXEC_WRITABLE_PATHS.items() if path not in skip}


ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<name>[^:@]+)[:@].+$"
)


@dataclass(frozen=True)
class TaskArgs:
    key: str  # the service's or job's key: the main container's name and the family's suffix
    task: TaskConfig
    environment: str
    facts: PlatformFacts
    uses_ec2: bool
    architecture: str
    exec_enabled: bool
    log_retention_days: int
    log_kms_key_arn: Optional[pulumi.Input[str]]
    image: pulumi.Input[str]  # the full image reference (ECR URL:tag or the configured uri)
    exec_kms_key_arn: Optional[pulumi.Input[str]]
    tags: dict[str, str]
    protect: bool
    exec_log_group_name: Optional[pulumi.Input[str]] = None  # the cluster's exec session log group
    port: Optional[int] = None  # the main container's port (services)
    health_check: Optional[HealthCheck] = None  # its container health check, when it has a command
    previous_parent: Optional[pulumi.Resource] = None  # where the children were registered before
    sidecar_images: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # sidecar -> full image reference
    service_connect: bool = False  # ECS adds the Service Connect proxy to this task (a server or client)


# --------------------------------------------------------------------------------------------
# Pure functions: the container definition and the ARNs it references
# --------------------------------------------------------------------------------------------


def secret_value_from(ref: SecretRef, facts: PlatformFacts) -> str:
    """ECS `valueFrom`: a Secrets Manager ARN, with `:<json-key>::` (latest version) for a key
    inside a JSON secret; an SSM parameter as its full ARN (also what IAM is granted on).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"""
    if ref.secret is not None:
        return f"{ref.secret}:{ref.key}::" if ref.key else ref.secret
    return iam.parameter_arn(ref.parameter, facts)  # type: ignore[arg-type]


def image_repository_arn(task: TaskConfig, environment: str, facts: PlatformFacts) -> Optional[str]:
    """The ECR repository the execution role may pull the main image from."""
    return repository_arn_of(task.image, environment, facts)


def repository_arn_of(image: Image, environment: str, facts: PlatformFacts) -> Optional[str]:
    """The ECR repository of an image: the registry's `<env>/<key>`, or the repository of an
    ECR `uri` in this account and region. None for other registries (public images need no
    pull grant)."""
    if image.repository is not None:
        return iam.repository_arn(repository_name(environment, image.repository), facts)
    match = ECR_IMAGE.match(image.uri or "")
    if match and match["account"] == facts.account_id and match["region"] == facts.region:
        return iam.repository_arn(match["name"], facts)
    return None


def container_definition(
    *,
    key: str,
    task: TaskConfig,
    image: str,
    log_group: str,
    region: str,
    secrets: dict[str, str],
    exec_enabled: bool,
    port: Optional[int] = None,
    health_check: Optional[HealthCheck] = None,
    uses_ec2: bool = False,
    service_connect: bool = False,
) -> dict[str, Any]:
    """The task's main container, named after the service or job, as RegisterTaskDefinition's
    ContainerDefinition.

    `secrets` maps each variable to its resolved `valueFrom`; `service_connect`: ECS adds its
    proxy to this task (configs/service_connect.py)."""
    definition: dict[str, Any] = {
        "name": key,
        "image": image,
        "essential": True,
        "portMappings": [port_mapping(key, port, service_connect)] if port is not None else [],
        "logConfiguration": _awslogs(log_group, region, key),
        "environment": _environment(task.environment),
        "secrets": [{"name": name, "valueFrom": secrets[name]} for name in sorted(secrets)],
        **_hardening(task.read_only_root_filesystem, exec_enabled),
        "stopTimeout": task.stop_timeout,
    }
    if task.sidecars:
        # The task's cpu/memory is its size; the sidecars reserve their share and this container
        # gets the rest (its memory is a hard limit, as the sidecars' are).
        definition["cpu"] = task.main_cpu
        # With Service Connect the proxy lives on what the limits leave unallocated: AWS does not
        # support a task whose container limits add up to its memory (configs/service_connect.py).
        definition["memory"] = main_memory_left(task) if service_connect else task.main_memory
    exec_mounts = [
        {"sourceVolume": volume, "containerPath": path, "readOnly": False}
        for volume, path in exec_writable_paths(exec_enabled, task.read_only_root_filesystem, uses_ec2).items()
    ]
    if task.volumes or exec_mounts:
        definition["mountPoints"] = [*volume_mounts(task), *exec_mounts]
    if task.gpu is not None:
        # The agent pins this many physical GPUs to the container (the loader keeps it on GPU
        # capacity). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-gpu-specifying.html
        definition["resourceRequirements"] = [{"type": "GPU", "value": str(task.gpu)}]
    if task.user is not None:
        definition["user"] = task.user
    if task.command is not None:
        definition["command"] = list(task.command)
    check = health_check
    if check is not None and check.command is not None:
        definition["healthCheck"] = {
            "command": list(check.command),
            "interval": check.interval,
            "timeout": check.timeout,  # the model refuses more than ECS's 60 s with a command
            "retries": check.unhealthy_threshold,
            # ECS caps the start period at 300 s; a longer grace period still holds through the
            # service's health-check grace period.
            "startPeriod": min(check.grace_period, CONTAINER_HEALTH_CHECK_MAX_START_PERIOD),
        }
    return definition


def sidecar_definition(
    *, name: str, sidecar: Sidecar, image: str, log_group: str, region: str, secrets: dict[str, str],
    mounts: Optional[list[dict[str, Any]]] = None,
) -> dict[str, Any]:
    """One sidecar: the main container's hardening (read-only root, no privilege, no Linux
    capability, its own non-root user), logs in the task's group under its own stream prefix."""
    definition: dict[str, Any] = {
        "name": name,
        "image": image,
        "essential": sidecar.essential,
        "cpu": sidecar.cpu,
        "memory": sidecar.memory,
        "portMappings": [port_mapping(name, sidecar.port)] if sidecar.port is not None else [],
        "logConfiguration": _awslogs(log_group, region, name),
        "environment": _environment(sidecar.environment),
        "secrets": [{"name": variable, "valueFrom": secrets[variable]} for variable in sorted(secrets)],
        **_hardening(True, exec_enabled=False),
        "user": sidecar.user,
    }
    if sidecar.depends_on:
        definition["dependsOn"] = [
            {"containerName": container, "condition": condition} for container, condition in sorted(sidecar.depends_on.items())
        ]
    if sidecar.command is not None:
        definition["command"] = list(sidecar.command)
    if mounts:
        definition["mountPoints"] = mounts  # the task's volumes: shared by every container
    return definition


# PortMapping.name (RegisterTaskDefinition): up to 64 lowercase letters, digits, _ and -.
PORT_NAME_MAX = 64


def port_name(container: str, port: int) -> str:
    """A port mapping's name, `<container>-<port>` (shortened with a digest only past AWS's 64
    characters): Service Connect's `portName` refers to it, so it depends only on the container
    and the port, never on the revision (under deploys: ci, CI's revisions are rendered from the
    latest one and keep it)."""
    return physical(f"{container}-{port}", PORT_NAME_MAX)


def port_mapping(container: str, port: int, service_connect: bool = False) -> dict[str, Any]:
    """One TCP port mapping; a Service Connect server also declares its application protocol
    (HTTP metrics in CloudWatch, and what `http://<service>:<port>` promises)."""
    mapping: dict[str, Any] = {"containerPort": port, "protocol": "tcp", "name": port_name(container, port)}
    if service_connect:
        mapping["appProtocol"] = APP_PROTOCOL
    return mapping


def _awslogs(log_group: str, region: str, stream_prefix: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": stream_prefix},
    }


def _environment(variables: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in sorted(variables.items())]


def _hardening(read_only_root: bool, exec_enabled: bool) -> dict[str, Any]:
    return {
        "readonlyRootFilesystem": read_only_root,
        "privileged": False,
        # No Linux capability at all: a web service needs none (ports above 1024, no raw sockets).
        "linuxParameters": {
            "capabilities": {"drop": ["ALL"]},
            # ECS Exec needs an init process to reap the sessions' processes.
            **({"initProcessEnabled": True} if exec_enabled else {}),
        },
    }


def task_volumes(task: TaskConfig, exec_enabled: bool, uses_ec2: bool) -> list[str]:
    """Names of the task's empty volumes: the declared ones, then ECS Exec's writable paths."""
    exec_paths = list(exec_writable_paths(exec_enabled, task.read_only_root_filesystem, uses_ec2))
    return [*sorted(task.volumes), *exec_paths]


def volume_mounts(task: TaskConfig) -> list[dict[str, Any]]:
    """The declared volumes as mount points; every container of the task mounts them."""
    return [
        {"sourceVolume": name, "containerPath": volume.path, "readOnly": volume.read_only}
        for name, volume in sorted(task.volumes.items())
    ]


def cpu_architecture(architecture: str) -> str:
    return {"x86_64": "X86_64", "arm64": "ARM64"}[architecture]


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


TASK_TYPE = type_token("task", "Task")


class Task(pulumi.ComponentResource):
    """Outputs: task_definition (the resource: its arn and revision), execution_role_arn,
    task_role_arn (None without a task role), log_group_name; inline_policies (the roles'
    policies, to depend on)."""

    def __init__(self, name: str, args: TaskArgs, opts: Optional[pulumi.ResourceOptions] = None):
        opts = pulumi.ResourceOptions.merge(opts, _moved_from(args.previous_parent))
        super().__init__(TASK_TYPE, name, None, opts)
        logs = log_group(
            child(name, "logs"),
            log_group_name=log_group_name(args.environment, args.key),
            retention_days=args.log_retention_days,
            kms_key_arn=args.log_kms_key_arn,
            tags=args.tags,
            protect=args.protect,
            parent=self,
        )
        execution_role = self._execution_role(name, args)
        task_role = self._task_role(name, args)
        self.task_definition = aws.ecs.TaskDefinition(
            child(name, "task-definition"),
            family=family(args.environment, args.key),
            network_mode="awsvpc",
            requires_compatibilities=["EC2" if args.uses_ec2 else "FARGATE"],
            cpu=str(args.task.cpu),
            memory=str(args.task.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=cpu_architecture(args.architecture)
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn if task_role is not None else None,
            container_definitions=container_definitions(args, logs.name),
            volumes=[
                aws.ecs.TaskDefinitionVolumeArgs(name=volume) for volume in task_volumes(args.task, args.exec_enabled, args.uses_ec2)
            ],
            ephemeral_storage=(
                aws.ecs.TaskDefinitionEphemeralStorageArgs(size_in_gib=args.task.ephemeral_storage)
                if args.task.ephemeral_storage is not None
                else None
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # What a service or job waits for, not only the roles: a role without its policy yet can
        # be assumed but may do nothing, so the first tasks would fail (components/iam.py).
        self.inline_policies = [iam.inline_policy(role) for role in (execution_role, task_role) if role is not None]
        self.execution_role_arn = execution_role.arn
        self.task_role_arn = task_role.arn if task_role is not None else None
        self.log_group_name = logs.name
        self.register_outputs(
            {
                "task_definition_arn": self.task_definition.arn,
                "execution_role_arn": self.execution_role_arn,
                "task_role_arn": self.task_role_arn,
                "log_group_name": self.log_group_name,
            }
        )

    def _execution_role(self, name: str, args: TaskArgs) -> aws.iam.Role:
        facts = args.facts
        return iam.create_execution_role(
            child(name, "execution"),
            # Exactly what this task definition references, and kms:Decrypt for the customer
            # keys its secrets name (AWS-managed keys need no grant).
            iam.execution_grants(
                args.task,
                repository_arn=image_repository_arn(args.task, args.environment, facts),
                log_group_arn=log_group_arn(log_group_name(args.environment, args.key), facts),
                facts=facts,
                sidecar_repository_arns=tuple(
                    arn
                    for sidecar in args.task.sidecars.values()
                    if (arn := repository_arn_of(sidecar.image, args.environment, facts)) is not None
                ),
            ),
            account_id=facts.account_id,
            partition=facts.partition,
            tags=args.tags,
            parent=self,
        )

    def _task_role(self, name: str, args: TaskArgs) -> Optional[aws.iam.Role]:
        facts, exec_on = args.facts, args.exec_enabled
        return iam.create_task_role(
            child(name, "task"),
            args.task.permissions,
            args.task.access,
            exec_enabled=exec_on,
            exec_kms_key_arn=args.exec_kms_key_arn if exec_on else None,
            # ECS Exec streams session logs with the task role's credentials.
            exec_log_group_arn=(
                pulumi.Output.from_input(args.exec_log_group_name).apply(lambda n: log_group_arn(n, facts))
                if exec_on and args.exec_log_group_name is not None
                else None
            ),
            account_id=facts.account_id,
            region=facts.region,
            partition=facts.partition,
            tags=args.tags,
            parent=self,
            queue=args.task.consumed_queue,  # autoscaling.queue: consume rights
        )


def container_definitions(args: TaskArgs, log_group_name_: pulumi.Input[str]) -> pulumi.Output[str]:
    """The task definition's containerDefinitions JSON (the main container first, then the
    sidecars by name), once the images and the log group are known."""
    facts, task = args.facts, args.task
    secrets = {variable: secret_value_from(ref, facts) for variable, ref in task.secrets.items()}
    sidecar_secrets = {
        name: {variable: secret_value_from(ref, facts) for variable, ref in sidecar.secrets.items()}
        for name, sidecar in task.sidecars.items()
    }
    sidecar_names = sorted(task.sidecars)

    def render(values: list[Any]) -> str:
        image, log_group_, *sidecar_images = values
        main = container_definition(
            key=args.key, task=task, image=image, log_group=log_group_, region=facts.region, secrets=secrets,
            exec_enabled=args.exec_enabled, port=args.port, health_check=args.health_check, uses_ec2=args.uses_ec2,
            service_connect=args.service_connect,
        )
        sidecars = [
            sidecar_definition(
                name=name, sidecar=task.sidecars[name], image=sidecar_image, log_group=log_group_,
                region=facts.region, secrets=sidecar_secrets[name], mounts=volume_mounts(task),
            )
            for name, sidecar_image in zip(sidecar_names, sidecar_images)
        ]
        return json.dumps([main, *sidecars], sort_keys=True)

    return pulumi.Output.all(args.image, log_group_name_, *(args.sidecar_images[name] for name in sidecar_names)).apply(render)


def _moved_from(previous_parent: Optional[pulumi.Resource]) -> Optional[pulumi.ResourceOptions]:
    """Each child gets an alias under the parent it was registered under before this component
    existed (same name and type), so the engine moves it instead of replacing it."""
    if previous_parent is None:
        return None

    def add_alias(resource_args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
        if resource_args.type_ == TASK_TYPE:
            return None  # the component itself is new
        aliases = [*(resource_args.opts.aliases or []), pulumi.Alias(parent=previous_parent)]
        return pulumi.ResourceTransformationResult(
            resource_args.props, pulumi.ResourceOptions.merge(resource_args.opts, pulumi.ResourceOptions(aliases=aliases))
        )

    return pulumi.ResourceOptions(transformations=[add_alias])
