"""EFS: file systems are encrypted at rest, backed up, and refuse clients without TLS; access
points confine their clients to a directory and a POSIX user (the defaults of
components/storage.py, enforced here for anything that creates them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, truthy
from .iam_meaning import allows, as_list, bool_values, element, expand, policy_statements, principal_entries

FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
FILE_SYSTEM_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
# What an NFS client does; a TLS-only policy must deny all three without TLS.
CLIENT_ACTIONS = frozenset({"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"})


def encrypted(props: Mapping, _settings: Settings) -> Iterable[str]:
    if not truthy(get(props, "encrypted")):
        yield "is not encrypted at rest (encrypted is not true); EFS cannot encrypt an existing file system later"
    elif not get(props, "kmsKeyId"):
        yield "is encrypted with the AWS-managed aws/elasticfilesystem key, whose policy the account cannot restrict or audit"


def access_point_confined(props: Mapping, _settings: Settings) -> Iterable[str]:
    path = get(props, "rootDirectory", "path")
    if path in (None, "", "/"):
        yield "exposes the whole file system (rootDirectory.path is /), every other volume's files included"
    if get(props, "posixUser", "uid") is None or get(props, "posixUser", "gid") is None:
        yield "enforces no user identity (posixUser uid and gid), so clients write as whichever uid they claim"


def backed_up(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    policies = stack.referrers(subject, "fileSystemId", (BACKUP_POLICY,))
    statuses = [str(get(stack.props(p), "backupPolicy", "status", default="")).upper() for p in policies]
    if "ENABLED" not in statuses:
        yield "has no backup policy with status ENABLED, so AWS Backup keeps no copy of its files"


def tls_only(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    policies = stack.referrers(subject, "fileSystemId", (FILE_SYSTEM_POLICY,))
    if not any(_denies_clients_without_tls(get(stack.props(p), "policy")) for p in policies):
        yield "no file system policy denies NFS clients without TLS (aws:SecureTransport false)"


def _denies_clients_without_tls(document) -> bool:
    statements, _ = policy_statements(document)
    for statement in statements:
        if allows(statement) or not any(v == "*" for _, v in principal_entries(statement)):
            continue
        actions = {a.name for pattern in as_list(element(statement, "Action")) for a in expand(str(pattern))}
        if CLIENT_ACTIONS <= actions and "false" in bool_values(element(statement, "Condition"), "aws:SecureTransport"):
            return True
    return False


RULES = [
    ResourceRule(
        name="aws-efs-file-system-encrypted",
        description="EFS file systems are encrypted at rest with a customer-managed KMS key.",
        remediation="set encrypted: true and kmsKeyId to a customer-managed key (storage.efs file systems use the "
        "environment's storage key); a file system cannot be encrypted, or change its key, after creation",
        category="security",
        types=(FILE_SYSTEM,),
        check=encrypted,
    ),
    ResourceRule(
        name="aws-efs-access-point-confined",
        description="EFS access points enforce a root directory of their own and a POSIX user.",
        remediation="set rootDirectory.path to the volume's directory (volumes.<v>.efs.root) and posixUser {uid, gid} "
        "(the task's user)",
        category="security",
        types=(ACCESS_POINT,),
        check=access_point_confined,
    ),
    StackRule(
        name="aws-efs-file-system-backups",
        description="EFS file systems have automatic backups (a backup policy with status ENABLED).",
        remediation="attach an aws.efs.BackupPolicy with backupPolicy.status ENABLED (storage.efs file systems get one)",
        category="reliability",
        types=(FILE_SYSTEM,),
        check=backed_up,
    ),
    StackRule(
        name="aws-efs-file-system-tls-only",
        description="EFS file system policies deny every NFS client that does not use TLS.",
        remediation="attach an aws.efs.FileSystemPolicy with a Deny for Principal \"*\", the elasticfilesystem Client* "
        "actions, Condition Bool aws:SecureTransport false",
        category="security",
        types=(FILE_SYSTEM,),
        check=tls_only,
    ),
]
