"""What a task may mount: writable paths under a read-only root come only from volumes the task
definition declares (never the host's filesystem), and EFS volumes are encrypted in transit and
mounted with IAM authorization through an access point."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings
from .helpers import as_list, container_definitions, container_label, get

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


def mounts_declared_volumes(props: Mapping, _settings: Settings) -> Iterable[str]:
    volumes = {str(v.get("name")): v for v in as_list(props.get("volumes")) if isinstance(v, Mapping)}
    for name, volume in volumes.items():
        # A bind mount of the instance's own filesystem: writes outlive the task and reach the
        # host (and other tasks on it); task storage (no host path) or EFS do not.
        host_path = get(volume, "hostPath")
        if host_path:
            yield f"volume {name!r} mounts the host's {host_path}; use task storage (no hostPath) or EFS"
    for container in container_definitions(props):
        for mount in as_list(container.get("mountPoints")):
            source = mount.get("sourceVolume") if isinstance(mount, Mapping) else None
            if source not in volumes:
                path = mount.get("containerPath") if isinstance(mount, Mapping) else mount
                yield f"{container_label(container)} mounts {path} from {source!r}, which the task definition does not declare"


def efs_encrypted_and_authorized(props: Mapping, _settings: Settings) -> Iterable[str]:
    for volume in as_list(props.get("volumes")):
        efs = get(volume, "efsVolumeConfiguration") if isinstance(volume, Mapping) else None
        if not efs:
            continue
        name = volume.get("name")
        if str(get(efs, "transitEncryption", default="DISABLED")).upper() != "ENABLED":
            yield f"EFS volume {name!r} is not encrypted in transit (transitEncryption is not ENABLED)"
        if str(get(efs, "authorizationConfig", "iam", default="DISABLED")).upper() != "ENABLED":
            yield f"EFS volume {name!r} mounts without IAM authorization (authorizationConfig.iam is not ENABLED)"
        if not get(efs, "authorizationConfig", "accessPointId"):
            yield f"EFS volume {name!r} mounts the file system without an access point (any path, any uid)"


RULES = [
    ResourceRule(
        name="aws-ecs-task-definition-mounts-declared-volumes",
        description="Containers mount only volumes the task definition declares, and no volume is a host path: "
        "under a read-only root the writable paths are exactly the declared volumes.",
        remediation="declare the path under volumes: in the environment file (task storage or EFS); never a hostPath",
        category="security",
        types=(TASK_DEFINITION,),
        check=mounts_declared_volumes,
    ),
    ResourceRule(
        name="aws-ecs-task-definition-efs-encrypted-iam",
        description="EFS volumes use transit encryption, IAM authorization and an access point.",
        remediation="set transitEncryption: ENABLED and authorizationConfig {iam: ENABLED, accessPointId} on the EFS volume",
        category="security",
        types=(TASK_DEFINITION,),
        check=efs_encrypted_and_authorized,
    ),
]
