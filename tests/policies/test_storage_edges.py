"""Edges of the EFS rules (policies/efs.py) and of what a task may mount (policies/workloads.py)
through the pack: each case changes one thing of the file system of test_efs_rules.py or of
the task's volumes of test_workload_rules.py and names every violation whole."""

from __future__ import annotations

import json

import pytest

from .stack import add, drop, edited, set_
from .test_efs_rules import ACCESS_POINT, BACKUP, FS, POLICY, TLS_ONLY, file_system, tls_policy
from .test_workload_rules import EFS, MOUNTS, TASK, efs_with, with_volumes
from .verdicts import expected, violations

ENCRYPTED, CONFINED = "aws-efs-file-system-encrypted", "aws-efs-access-point-confined"
BACKUPS, TLS = "aws-efs-file-system-backups", "aws-efs-file-system-tls-only"
NO_TLS = (TLS, FS, "no file system policy denies NFS clients without TLS (aws:SecureTransport false)")
WHOLE_FILE_SYSTEM = (CONFINED, ACCESS_POINT, "exposes the whole file system (rootDirectory.path is /), every other volume's files included")
NO_USER = (CONFINED, ACCESS_POINT, "enforces no user identity (posixUser uid and gid), so clients write as whichever uid they claim")


def policy_of(*statements):
    return set_(POLICY, "policy", json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def case(id_, edits, *found):
    return pytest.param(edits, found, id=id_)


FILE_SYSTEM_CASES = [
    case("aws-managed-key-spelt-empty", [set_(FS, "kmsKeyId", "")],
         (ENCRYPTED, FS, "is encrypted with the AWS-managed aws/elasticfilesystem key, whose policy the account cannot restrict or audit")),
    case("encrypted-spelt-false", [set_(FS, "encrypted", "false")],
         (ENCRYPTED, FS, "is not encrypted at rest (encrypted is not true); EFS cannot encrypt an existing file system later")),
    case("root-directory-unset", [drop(ACCESS_POINT, "rootDirectory")], WHOLE_FILE_SYSTEM),
    case("root-directory-empty", [set_(ACCESS_POINT, "rootDirectory.path", "")], WHOLE_FILE_SYSTEM),
    case("no-gid", [drop(ACCESS_POINT, "posixUser.gid")], NO_USER),
    case("no-uid", [drop(ACCESS_POINT, "posixUser.uid")], NO_USER),
    case("whole-and-anyone", [set_(ACCESS_POINT, "rootDirectory.path", "/"), drop(ACCESS_POINT, "posixUser")], WHOLE_FILE_SYSTEM, NO_USER),
    case("backup-status-unset", [set_(BACKUP, "backupPolicy", {})], (BACKUPS, FS, "has no backup policy with status ENABLED, so AWS Backup keeps no copy of its files")),
    case("tls-statement-allows", [set_(POLICY, "policy", tls_policy(Effect="Allow"))], NO_TLS),
    case("tls-two-of-three-actions", [set_(POLICY, "policy", tls_policy(Action=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]))], NO_TLS),
    case("tls-condition-on-another-key", [set_(POLICY, "policy", tls_policy(Condition={"Bool": {"aws:ViaAWSService": "false"}}))], NO_TLS),
    case("tls-no-condition", [policy_of({k: v for k, v in TLS_ONLY.items() if k != "Condition"})], NO_TLS),
    case("tls-policy-not-json", [set_(POLICY, "policy", "{Statement")], NO_TLS),
    case("tls-principal-of-the-account", [set_(POLICY, "policy", tls_policy(Principal="arn:aws:iam::123456789012:root"))], NO_TLS),
]


@pytest.mark.parametrize("edits, found", FILE_SYSTEM_CASES)
def test_each_file_system_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*file_system(), *edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([set_(FS, "encrypted", "true")], id="encrypted-spelt-as-a-string"),
    pytest.param([set_(BACKUP, "backupPolicy.status", "enabled")], id="backup-status-any-case"),
    pytest.param([add("aws:efs/backupPolicy:BackupPolicy", "prod-storage-uploads-backup-0", {"fileSystemId": "fs-1", "backupPolicy": {"status": "DISABLED"}},
                      {"fileSystemId": [FS]})], id="an-enabled-policy-beside-a-disabled-one"),
    pytest.param([set_(POLICY, "policy", tls_policy(Principal="*"))], id="tls-principal-star"),
    pytest.param([set_(POLICY, "policy", tls_policy(Principal={"AWS": ["arn:aws:iam::123456789012:root", "*"]}))], id="tls-principal-star-among-others"),
    pytest.param([set_(POLICY, "policy", tls_policy(Action=sorted(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"])))],
                 id="tls-the-three-client-actions"),
    pytest.param([set_(POLICY, "policy", tls_policy(Condition={"Bool": {"aws:SecureTransport": ["False"]}}))], id="tls-false-as-a-list-any-case"),
    pytest.param([policy_of({"Sid": "Mount", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount", "Resource": "*",
                             "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}}, TLS_ONLY)], id="tls-deny-after-an-allow"),
    pytest.param([set_(ACCESS_POINT, "posixUser", {"uid": 0, "gid": 0})], id="access-point-user-0-is-a-user"),
])
def test_file_system_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*file_system(), *edits))) == []


VOLUME_CASES = [
    case("efs-no-iam-setting", [with_volumes(volumes=efs_with(authorizationConfig__iam=None))],
         (EFS, TASK, "EFS volume 'data' mounts without IAM authorization (authorizationConfig.iam is not ENABLED)")),
    case("efs-no-authorization", [with_volumes(volumes=efs_with(authorizationConfig=None))],
         (EFS, TASK, "EFS volume 'data' mounts without IAM authorization (authorizationConfig.iam is not ENABLED)"),
         (EFS, TASK, "EFS volume 'data' mounts the file system without an access point (any path, any uid)")),
    case("efs-every-problem", [with_volumes(volumes=efs_with(transitEncryption="DISABLED", authorizationConfig=None))],
         (EFS, TASK, "EFS volume 'data' is not encrypted in transit (transitEncryption is not ENABLED)"),
         (EFS, TASK, "EFS volume 'data' mounts without IAM authorization (authorizationConfig.iam is not ENABLED)"),
         (EFS, TASK, "EFS volume 'data' mounts the file system without an access point (any path, any uid)")),
    case("mount-without-source", [with_volumes(mounts=[{"containerPath": "/tmp"}])],
         (MOUNTS, TASK, "container 'api' mounts /tmp from None, which the task definition does not declare")),
    case("mount-spelt-as-a-path", [with_volumes(mounts=["/tmp"])],
         (MOUNTS, TASK, "container 'api' mounts /tmp from None, which the task definition does not declare")),
    case("mount-of-a-second-volume-undeclared", [with_volumes(mounts=[{"sourceVolume": "tmp", "containerPath": "/tmp"}, {"sourceVolume": "cache", "containerPath": "/cache"}])],
         (MOUNTS, TASK, "container 'api' mounts /cache from 'cache', which the task definition does not declare")),
    case("host-path-and-undeclared-mount", [with_volumes(volumes=[{"name": "tmp", "hostPath": "/tmp"}], mounts=[{"sourceVolume": "data", "containerPath": "/data"}])],
         (MOUNTS, TASK, "volume 'tmp' mounts the host's /tmp; use task storage (no hostPath) or EFS"),
         (MOUNTS, TASK, "container 'api' mounts /data from 'data', which the task definition does not declare")),
]


@pytest.mark.parametrize("edits, found", VOLUME_CASES)
def test_each_volume_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([with_volumes(volumes=efs_with(transitEncryption="enabled", authorizationConfig__iam="enabled"))], id="efs-settings-any-case"),
    pytest.param([with_volumes(volumes=[{"name": "tmp"}, {"name": "data", "efsVolumeConfiguration": {}}])], id="empty-efs-configuration"),
    pytest.param([with_volumes(volumes=[{"name": "tmp"}, {"name": "data", "hostPath": ""}])], id="empty-host-path-is-task-storage"),
    pytest.param([with_volumes(mounts=[])], id="declared-volumes-unmounted"),
])
def test_volume_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*edits))) == []
