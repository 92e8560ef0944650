"""ECS task definitions: container isolation, logging, images, secrets, roles."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import as_list, capabilities, container_definitions, container_label, containers_problem, get, items
from .logs import LOG_GROUP

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


def no_privileged(props: Mapping, _settings: Settings) -> Iterable[str]:
    for container in container_definitions(props):
        if container.get("privileged"):
            yield f"{container_label(container)} is privileged (root on the host)"
        added = capabilities(container, "add")  # any added capability: SYS_ADMIN, NET_ADMIN, sys_ptrace, ...
        if added:
            yield f"{container_label(container)} adds Linux capabilities {', '.join(added)}"


def drops_all_capabilities(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Adding capabilities is aws-ecs-task-definition-no-privileged-containers' concern; this
    # rule asks for the drop, so a container keeps none of Docker's default set (NET_RAW,
    # CHOWN, SETUID, ...). Windows containers have no linuxParameters at all.
    if _is_windows(props):
        return
    for container in container_definitions(props):
        dropped = capabilities(container, "drop")
        if "ALL" not in (c.upper() for c in dropped):
            kept = f"drops only {', '.join(dropped)}" if dropped else "drops no Linux capabilities"
            yield f"{container_label(container)} {kept}, so it keeps Docker's default capabilities"


def read_only_root(props: Mapping, _settings: Settings) -> Iterable[str]:
    for container in container_definitions(props):
        if container.get("readonlyRootFilesystem") is not True:
            yield f"{container_label(container)} has a writable root filesystem"


# Log drivers that ship logs off the instance; `awsfirelens` routes through a FireLens sidecar.
SHIPPING_LOG_DRIVERS = ("awslogs", "awsfirelens")


def logs_retained(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    groups = stack.memo(_log_groups_by_name, lambda: _log_groups_by_name(stack))  # same for every task definition
    for container in container_definitions(stack.props(subject)):
        yield from _container_log_problems(container, groups)


def _log_groups_by_name(stack: Stack) -> dict[str, Mapping]:
    return {get(stack.props(g), "name"): stack.props(g) for g in stack.of(LOG_GROUP)}


def _container_log_problems(container: Mapping, groups: Mapping[str, Mapping]) -> Iterable[str]:
    label = container_label(container)
    config = container.get("logConfiguration") or {}
    driver = config.get("logDriver")
    if driver not in SHIPPING_LOG_DRIVERS:
        yield f"{label} logs with {driver or 'no driver'}, so its output is lost with the task"
        return
    if driver != "awslogs":
        return
    options = config.get("options") or {}
    group = options.get("awslogs-group")
    if str(options.get("awslogs-create-group", "")).lower() == "true":
        # awslogs-create-group makes a group that never expires (and needs logs:CreateLogGroup).
        yield f"{label} lets the awslogs driver create its group {group!r}, which then keeps logs forever"
    elif group not in groups:
        yield f"{label} logs to {group!r}, which is not a log group of this stack"
    elif not get(groups[group], "retentionInDays"):
        yield f"{label} logs to {group!r}, which has no retention"


def pinned_image(props: Mapping, _settings: Settings) -> Iterable[str]:
    for container in container_definitions(props):
        problem = image_problem(str(container.get("image", "")))
        if problem:
            yield f"{container_label(container)} uses {container.get('image')!r}: {problem}"


def image_problem(image: str) -> str:
    """Why an image reference is not pinned, or '' when it is."""
    if "@sha256:" in image:
        return ""
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:  # no tag at all: Docker pulls `latest`
        return "no tag means latest"
    if tag.lower() == "latest":
        return "latest is mutable and cannot be rolled back"
    return ""


def plaintext_secrets(props: Mapping, settings: Settings) -> Iterable[str]:
    pattern = re.compile(settings.option("secretNamePattern"))
    for container in container_definitions(props):
        for variable in container.get("environment") or []:
            name = str(variable.get("name", ""))
            if pattern.search(name):
                yield f"{container_label(container)} passes {name} as a plain environment variable"


def separate_roles(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    execution = _role_identity(subject, stack, "executionRoleArn")
    task = _role_identity(subject, stack, "taskRoleArn")
    if execution is not None and execution == task:
        # The execution role can read every secret and pull images; code in the container
        # must not inherit those rights.
        yield "the task role is the execution role"


def _role_identity(subject, stack: Stack, prop: str):
    """What a role-ARN property names: the resources it depends on (known in a real preview,
    where the ARN itself is not yet), else its value."""
    deps = (subject.property_dependencies or {}).get(prop)
    if deps:
        return frozenset(d.urn for d in deps)
    return get(stack.props(subject), prop)


HOST_NAMESPACES = (("networkMode", "host network"), ("pidMode", "host PID namespace"), ("ipcMode", "host IPC namespace"))


def no_host_namespaces(props: Mapping, _settings: Settings) -> Iterable[str]:
    for prop, meaning in HOST_NAMESPACES:
        if get(props, prop) == "host":
            yield f"{prop} is host: the containers share the {meaning}"


def valid_containers(props: Mapping, _settings: Settings) -> Iterable[str]:
    problem = containers_problem(props)
    if problem:
        yield problem


def _is_windows(props: Mapping) -> bool:
    return str(get(props, "runtimePlatform", "operatingSystemFamily", default="LINUX")).upper().startswith("WINDOWS")


def non_root_user(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Unset, the image's USER applies, and most images run as root (uid 0).
    if _is_windows(props):
        return
    for container in container_definitions(props):
        user = container.get("user")
        if user is None or str(user).strip() == "":
            yield f"{container_label(container)} sets no user, so it runs as the image's user (root for most images)"
        elif is_root(str(user)):
            yield f"{container_label(container)} runs as user {user!r}, which is root"


def is_root(user: str) -> bool:
    """`root`, `0`, `00`, `0:0`, `root:1000`: the user part names uid 0."""
    name = user.split(":", 1)[0].strip()
    return name.casefold() == "root" or (name.isdigit() and int(name) == 0)


# Host paths whose mount hands a container the host: the container runtime's socket (start a
# privileged container), the root, kernel interfaces, devices, run-time and runtime state.
HOST_PATHS = ("/proc", "/sys", "/dev", "/var/run", "/run", "/var/lib/docker", "/var/lib/containerd", "/var/lib/ecs",
              "/etc", "/boot", "/root")


def dangerous_host_path(path: str) -> bool:
    normal = posixpath.normpath(re.sub(r"/+", "/", "/" + path.strip()))
    if normal == "/" or normal.endswith(".sock"):
        return True
    return any(normal == root or normal.startswith(root + "/") for root in HOST_PATHS)


def no_host_mounts(props: Mapping, _settings: Settings) -> Iterable[str]:
    for volume in items(props, "volumes"):
        name = volume.get("name", "?")
        host = volume.get("hostPath")
        if host and dangerous_host_path(str(host)):
            yield f"volume {name!r} mounts the host's {host}"
        docker = volume.get("dockerVolumeConfiguration") or {}
        options = {str(k).lower(): str(v) for k, v in (docker.get("driverOpts") or {}).items()}
        # The local driver with o=bind is a bind mount of `device` under another name.
        if "bind" in options.get("o", "") and dangerous_host_path(options.get("device", "")):
            yield f"volume {name!r} binds the host's {options.get('device')} through the {docker.get('driver', 'local')} driver"


def no_devices(props: Mapping, _settings: Settings) -> Iterable[str]:
    for container in container_definitions(props):
        devices = as_list((container.get("linuxParameters") or {}).get("devices"))
        if devices:
            paths = ", ".join(str(d.get("hostPath", "?")) if isinstance(d, dict) else str(d) for d in devices)
            yield f"{container_label(container)} maps host devices {paths}"


# Docker security options that switch a protection off (ECS passes them to Docker as given;
# `seccomp:unconfined` and `seccomp=unconfined` are both accepted spellings).
UNCONFINED = re.compile(r"^\s*(seccomp|apparmor|systempaths)\s*[:=]\s*unconfined\s*$|^\s*label\s*[:=]\s*disable\s*$", re.IGNORECASE)


def security_options(props: Mapping, _settings: Settings) -> Iterable[str]:
    for container in container_definitions(props):
        for option in as_list(container.get("dockerSecurityOptions")):
            if UNCONFINED.match(str(option)):
                yield f"{container_label(container)} sets dockerSecurityOptions {option!r}"


# The default for an unconfigured run only: config_gen passes the environment file's rule
# (configs/checks.py SECRET_LOOKING_NAME, which refuses at least these names) as
# secretNamePattern, so the config loader refuses a name before the pack would.
SECRET_NAME_PATTERN = r"(?i)(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)|(^|_)(PWD|PASS|KEY|AUTH)(_|$)"

RULES = [
    ResourceRule(
        name="aws-ecs-task-definition-no-privileged-containers",
        description="Containers are not privileged and add no Linux capabilities.",
        remediation="remove privileged and linuxParameters.capabilities.add from the container definition",
        category="security",
        types=(TASK_DEFINITION,),
        check=no_privileged,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-drops-all-capabilities",
        description="Containers drop all Linux capabilities (linuxParameters.capabilities.drop contains ALL).",
        remediation='set linuxParameters.capabilities.drop: ["ALL"] in the container definition',
        category="security",
        types=(TASK_DEFINITION,),
        check=drops_all_capabilities,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-read-only-root-filesystem",
        description="Containers run with a read-only root filesystem.",
        remediation="set readonlyRootFilesystem: true and mount a volume for paths that must be writable",
        category="security",
        types=(TASK_DEFINITION,),
        check=read_only_root,
    ),
    StackRule(
        name="aws-ecs-task-definition-logs-retained",
        description="Every container logs (awslogs or FireLens) to a log group of the stack that has a retention.",
        remediation="set logConfiguration awslogs with awslogs-group naming a LogGroup that sets retentionInDays",
        category="reliability",
        types=(TASK_DEFINITION,),
        check=logs_retained,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-pinned-image",
        description="Container images are pinned to a version tag or digest, never latest or untagged.",
        remediation="use image: {repository: <key>, tag: v1.2.3} or a uri with @sha256 digest",
        category="reliability",
        types=(TASK_DEFINITION,),
        check=pinned_image,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-no-plaintext-secrets",
        description="Secret-looking names (PASSWORD, SECRET, TOKEN, KEY, ...) are not plain environment variables.",
        remediation="move the value to services.<key>.secrets (Secrets Manager or SSM), injected by the execution role",
        category="security",
        types=(TASK_DEFINITION,),
        check=plaintext_secrets,
        options={"secretNamePattern": SECRET_NAME_PATTERN},
        option_schema={"secretNamePattern": {"type": "string", "description": "Regex of secret-looking variable names."}},
    ),
    StackRule(
        name="aws-ecs-task-definition-separate-roles",
        description="The task role is not the execution role.",
        remediation="give the task its own role with only the permissions the application needs",
        category="security",
        types=(TASK_DEFINITION,),
        check=separate_roles,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-no-host-namespaces",
        description="Tasks use neither the host network nor the host PID or IPC namespace.",
        remediation="use networkMode: awsvpc and leave pidMode and ipcMode unset (or task)",
        category="security",
        types=(TASK_DEFINITION,),
        check=no_host_namespaces,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-valid-containers",
        description="containerDefinitions is a JSON list of container objects (what cannot be read cannot be judged).",
        remediation="let the platform render containerDefinitions, or fix the JSON to a list of container objects",
        category="security",
        types=(TASK_DEFINITION,),
        check=valid_containers,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-non-root-user",
        description="Every Linux container runs as a non-root user (user set, not 0 or root).",
        remediation="set services.<key>.user (and each sidecar's user) to a uid such as 10001",
        category="security",
        types=(TASK_DEFINITION,),
        check=non_root_user,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-no-host-mounts",
        description="No volume mounts the container runtime socket or the host's /, /proc, /sys, /dev, /var/run, /etc or runtime state.",
        remediation="use EFS or a task-scoped volume; never give a container the host's paths",
        category="security",
        types=(TASK_DEFINITION,),
        check=no_host_mounts,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-no-devices",
        description="Containers map no host devices (linuxParameters.devices).",
        remediation="remove linuxParameters.devices; GPUs are requested with resourceRequirements",
        category="security",
        types=(TASK_DEFINITION,),
        check=no_devices,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-confined",
        description="Containers keep seccomp, AppArmor and SELinux confinement (no unconfined or label:disable security options).",
        remediation="remove the unconfined entries from dockerSecurityOptions",
        category="security",
        types=(TASK_DEFINITION,),
        check=security_options,
    ),
]

# Used by iam.py (the execution role rule) and vpc.py (the endpoints secrets need): the
# secrets and parameters a task definition references.
def referenced_secrets(props: Mapping) -> list[str]:
    refs = []
    for container in container_definitions(props):
        refs += [str(s.get("valueFrom", "")) for s in as_list(container.get("secrets"))]
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            refs.append(str(credentials))
    return refs
