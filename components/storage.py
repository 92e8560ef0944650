"""The environment's EFS file systems (`storage.efs`) and the access points the tasks mount them
through (`volumes.<v>.efs`).

A file system created outside the stack has its mount targets in another VPC, and a task can
mount EFS only through a mount target in its own VPC, so the stack creates each file system:

    <name>-key                      aws:kms/key:Key                          the file systems' data key, rotated
    <name>-<fs>                     aws:efs/fileSystem:FileSystem            encrypted, protected with `protect`
    <name>-<fs>-backup              aws:efs/backupPolicy:BackupPolicy        ENABLED: AWS Backup's daily plan
    <name>-<fs>-policy              aws:efs/fileSystemPolicy:FileSystemPolicy  denies every request without TLS
    <name>-<fs>-nfs                 aws:ec2/securityGroup:SecurityGroup      no rules of its own (see below)
    <name>-<fs>-mount-<zone>        aws:efs/mountTarget:MountTarget          one per private subnet
    <name>-<fs>-<workload>.<volume> aws:efs/accessPoint:AccessPoint          one per (workload, volume)

(`<name>` is `<env>-storage`; the `.` keeps `a-b`+`c` and `a`+`b-c` apart, since keys may hold `-`.)

The NFS rules are created by each service or job that mounts the file system (`nfs_rules`):
TCP 2049 ingress on the file system's group from the task's group, and the matching egress on
the task's group, so adding or removing a volume touches only that workload's rules, and the
workload can wait for them before its tasks start.

Encryption at rest uses a customer-managed key of the environment's storage (the log key's
policy admits CloudWatch Logs and is no place for data): rotated yearly, protected like the file
systems, administered by the account (its IAM policies decide, as in KMS's default key policy).
EFS creates its own grants on the key when the file system is created; a task needs no kms
permission to read what EFS decrypts for it. https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from configs.model import Storage as StorageConfig
from configs.model import Volume
from components.arns import POLICY_VERSION, account_root_arn
from components.naming import child, type_token

NFS_PORT = 2049
# The access point creates its root directory on first use, owned by the task's uid/gid: the
# owner reads and writes, its group reads, nobody else gets anything.
ROOT_DIRECTORY_PERMISSIONS = "0750"
CLIENT_MOUNT = "elasticfilesystem:ClientMount"
CLIENT_WRITE = "elasticfilesystem:ClientWrite"


@dataclass(frozen=True)
class AccessPointRequest:
    """One EFS volume of one workload: what its access point is made of."""

    workload: str  # the service's or job's key
    volume: str  # the volume's key
    file_system: str  # a storage.efs key
    root: str
    uid: int
    gid: int
    read_only: bool


@dataclass(frozen=True)
class EfsMount:
    """What a task needs to mount one EFS volume (components/task.py) and what its workload
    opens and waits for (`nfs_rules`, `mount_targets`)."""

    file_system: str  # the storage.efs key
    file_system_id: pulumi.Input[str]
    file_system_arn: pulumi.Input[str]
    access_point_id: pulumi.Input[str]
    access_point_arn: pulumi.Input[str]
    security_group_id: pulumi.Input[str]  # the file system's NFS group
    read_only: bool
    mount_targets: tuple[pulumi.Resource, ...] = ()  # tasks cannot mount before these exist


@dataclass(frozen=True)
class StorageArgs:
    storage: StorageConfig
    access_points: tuple[AccessPointRequest, ...]
    environment: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]  # zone -> subnet id
    tags: dict[str, str]
    protect: bool
    account_id: str  # the storage key is administered by this account
    partition: str


# --------------------------------------------------------------------------------------------
# Pure functions: what AWS receives
# --------------------------------------------------------------------------------------------


def access_point_requests(config) -> tuple[AccessPointRequest, ...]:
    """Every EFS volume of the environment's services and jobs, with the uid/gid of its task's
    `user` (the loader refuses an EFS volume under a non-numeric user)."""
    tasks = {**config.services, **config.jobs}
    requests = []
    for workload, name, volume in config.efs_mounts:
        posix = tasks[workload].posix_user
        if posix is None or volume.efs is None:
            raise ValueError(f"{workload}.volumes.{name}: an EFS volume needs a numeric user (uid[:gid])")
        if volume.efs.file_system not in config.storage.efs:
            raise ValueError(f"{workload}.volumes.{name}: {volume.efs.file_system!r} is not declared under storage.efs")
        requests.append(_request(workload, name, volume, *posix))
    return tuple(requests)


def _request(workload: str, name: str, volume: Volume, uid: int, gid: int) -> AccessPointRequest:
    assert volume.efs is not None
    return AccessPointRequest(
        workload=workload, volume=name, file_system=volume.efs.file_system, root=volume.efs.root,
        uid=uid, gid=gid, read_only=volume.read_only,
    )


def key_policy(partition: str, account_id: str) -> dict:
    """The storage key's policy: the account administers and uses it (its IAM policies decide, the
    deploying principal's among them); EFS uses it through the grants it creates."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": account_root_arn(partition, account_id)},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def file_system_policy(file_system_arn: str) -> dict:
    """Denies every request that does not use TLS (mounts without `transitEncryption`), for
    every principal. It grants nothing: the task roles' ClientMount/ClientWrite do, and with a
    policy in place a client without IAM authorization is anonymous and gets nothing either.
    https://docs.aws.amazon.com/efs/latest/ug/encryption-in-transit.html"""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": file_system_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def efs_volume_configuration(mount: EfsMount) -> aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationArgs:
    """The task definition's volume: TLS to the mount target, the task role's identity checked by
    IAM, and the access point's root and uid/gid (ECS requires transit encryption with an access
    point, and IAM authorization needs the access point's condition to mean anything)."""
    return aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationArgs(
        file_system_id=mount.file_system_id,
        transit_encryption="ENABLED",
        authorization_config=aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfigArgs(
            iam="ENABLED", access_point_id=mount.access_point_id
        ),
    )


def mount_statements(mounts: list[tuple[str, str, str, bool]]) -> list[dict]:
    """The task role's EFS grants, one statement per volume (volume, file system ARN, access
    point ARN, read_only): ClientMount, and ClientWrite unless read-only, on the file system, only
    through that access point (elasticfilesystem:AccessPointArn, an ARN-typed condition key).
    https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html"""
    statements = []
    for volume, file_system_arn, access_point_arn, read_only in mounts:
        statements.append(
            {
                "Sid": "Efs" + "".join(part.capitalize() for part in volume.split("-")),
                "Effect": "Allow",
                "Action": [CLIENT_MOUNT] if read_only else [CLIENT_MOUNT, CLIENT_WRITE],
                "Resource": [file_system_arn],
                "Condition": {"ArnEquals": {"elasticfilesystem:AccessPointArn": access_point_arn}},
            }
        )
    return statements


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


class Storage(pulumi.ComponentResource):
    """Outputs: file_system_ids (key -> id); `mounts[(workload, volume)]` what each task mounts."""

    def __init__(self, name: str, args: StorageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("storage", "Storage"), name, None, opts)
        self.mounts: dict[tuple[str, str], EfsMount] = {}
        file_system_ids: dict[str, pulumi.Output[str]] = {}
        self.key = aws.kms.Key(
            child(name, "key"),
            description=f"Encrypts the EFS file systems of {args.environment}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(key_policy(args.partition, args.account_id), sort_keys=True),
            tags=args.tags,
            # Without the key every file system's data is unreadable: kept like the data.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        for key in sorted(args.storage.efs):
            file_system, group, targets = self._file_system(name, key, args)
            file_system_ids[key] = file_system.id
            for request in (r for r in args.access_points if r.file_system == key):
                access_point = self._access_point(name, request, file_system, args.tags)
                self.mounts[(request.workload, request.volume)] = EfsMount(
                    file_system=key,
                    file_system_id=file_system.id,
                    file_system_arn=file_system.arn,
                    access_point_id=access_point.id,
                    access_point_arn=access_point.arn,
                    security_group_id=group.id,
                    read_only=request.read_only,
                    mount_targets=targets,
                )
        self.file_system_ids = file_system_ids
        self.register_outputs({"file_system_ids": file_system_ids})

    def _file_system(
        self, name: str, key: str, args: StorageArgs
    ) -> tuple[aws.efs.FileSystem, aws.ec2.SecurityGroup, tuple[pulumi.Resource, ...]]:
        config = args.storage.efs[key]
        base = child(name, key)
        file_system = aws.efs.FileSystem(
            base,
            encrypted=True,
            kms_key_id=self.key.arn,  # the environment's storage key (module docstring)
            performance_mode="generalPurpose",  # elastic throughput requires it
            throughput_mode=config.throughput,
            tags={**args.tags, "Name": f"{args.environment}-{key}"},
            # The data lives here: `protect` (the production tier's default) refuses a deletion,
            # and review/diff.py flags a replacement as loss of state.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.efs.BackupPolicy(
            child(base, "backup"),
            file_system_id=file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.efs.FileSystemPolicy(
            child(base, "policy"),
            file_system_id=file_system.id,
            policy=file_system.arn.apply(lambda arn: json.dumps(file_system_policy(arn), separators=(",", ":"))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        group = aws.ec2.SecurityGroup(
            child(base, "nfs"),
            description=f"EFS {args.environment}/{key}: NFS from the tasks that mount it",
            vpc_id=args.vpc_id,
            tags={**args.tags, "Name": f"{args.environment}-efs-{key}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        targets = tuple(
            aws.efs.MountTarget(
                child(base, "mount", zone),
                file_system_id=file_system.id,
                subnet_id=args.private_subnet_ids[zone],
                security_groups=[group.id],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for zone in sorted(args.private_subnet_ids)
        )
        return file_system, group, targets

    def _access_point(
        self, name: str, request: AccessPointRequest, file_system: aws.efs.FileSystem, tags: dict[str, str]
    ) -> aws.efs.AccessPoint:
        return aws.efs.AccessPoint(
            child(name, request.file_system, f"{request.workload}.{request.volume}"),
            file_system_id=file_system.id,
            # Every file operation through the access point runs as the task's user, whatever
            # the container's process claims (root included).
            posix_user=aws.efs.AccessPointPosixUserArgs(uid=request.uid, gid=request.gid),
            root_directory=aws.efs.AccessPointRootDirectoryArgs(
                path=request.root,
                creation_info=aws.efs.AccessPointRootDirectoryCreationInfoArgs(
                    owner_uid=request.uid, owner_gid=request.gid, permissions=ROOT_DIRECTORY_PERMISSIONS
                ),
            ),
            tags={**tags, "Name": f"{request.workload}/{request.volume}"},
            opts=pulumi.ResourceOptions(parent=self),
        )


def nfs_rules(
    name: str, workload: str, group_id: pulumi.Input[str], mounts: dict[str, EfsMount], tags: dict[str, str], parent: pulumi.Resource
) -> list[pulumi.Resource]:
    """NFS (TCP 2049) from the workload's group to each file system it mounts: egress on the
    workload's group, ingress on the file system's group, children of the workload. Returns the
    rules and the file systems' mount targets: what its tasks must wait for."""
    from components.service import tcp_rule  # the one way rules are made (service imports task, task this)

    ready: list[pulumi.Resource] = []
    for key, mount in sorted({m.file_system: m for m in mounts.values()}.items()):
        base = child(name, "to", "efs", key)
        ready.append(tcp_rule(
            "egress", child(base, "egress"), group=group_id, peer_group=mount.security_group_id, port=NFS_PORT,
            description=f"{workload} mounts EFS {key} (NFS over TLS)", tags=tags, parent=parent,
        ))
        ready.append(tcp_rule(
            "ingress", child(base, "ingress"), group=mount.security_group_id, peer_group=group_id, port=NFS_PORT,
            description=f"EFS {key} admits {workload} (NFS over TLS)", tags=tags, parent=parent,
        ))
        ready.extend(mount.mount_targets)
    return ready
