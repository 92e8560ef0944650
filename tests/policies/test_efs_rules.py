"""policies/efs.py through the real pack: a file system as components/storage.py registers it
(encrypted with the storage key, backup policy ENABLED, a TLS-only file system policy, an access point confined to a
directory and a POSIX user) passes; each one-field change fails exactly its rule."""

from __future__ import annotations

import json

import pytest

from policies.registry import RULES_BY_NAME

from .stack import ACCOUNT, REGION, add, drop, edited, remove, set_

FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
FS = "prod-storage-uploads"
FS_ARN = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-0123456789abcdef0"
POLICY = "prod-storage-uploads-policy"
BACKUP = "prod-storage-uploads-backup"
ACCESS_POINT = "prod-storage-uploads-api.data"
TLS_ONLY = {
    "Sid": "TlsOnly", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": FS_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def tls_policy(**changes) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{**TLS_ONLY, **changes}]})


def file_system():
    links = {"fileSystemId": [FS]}
    return [
        add("aws:kms/key:Key", "prod-storage-key", {"enableKeyRotation": True, "policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]})}),
        add(FILE_SYSTEM, FS, {"encrypted": True, "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1", "performanceMode": "generalPurpose",
                              "throughputMode": "elastic"}, {"kmsKeyId": ["prod-storage-key"]}),
        add("aws:efs/backupPolicy:BackupPolicy", BACKUP, {"fileSystemId": "fs-1", "backupPolicy": {"status": "ENABLED"}}, links),
        add("aws:efs/fileSystemPolicy:FileSystemPolicy", POLICY, {"fileSystemId": "fs-1", "policy": tls_policy()}, links),
        add("aws:efs/accessPoint:AccessPoint", ACCESS_POINT, {
            "fileSystemId": "fs-1", "posixUser": {"uid": 10001, "gid": 10001},
            "rootDirectory": {"path": "/api", "creationInfo": {"ownerUid": 10001, "ownerGid": 10001, "permissions": "0750"}},
        }, links),
    ]


def test_a_file_system_as_the_stack_creates_it_passes(pack):
    assert pack.verdict(edited(*file_system())).violations == ()


@pytest.mark.parametrize(
    ("edit", "policy", "resource", "fragment"),
    [
        (set_(FS, "encrypted", False), "aws-efs-file-system-encrypted", FS,
         "is not encrypted at rest (encrypted is not true); EFS cannot encrypt an existing file system later"),
        (drop(FS, "encrypted"), "aws-efs-file-system-encrypted", FS,
         "is not encrypted at rest (encrypted is not true); EFS cannot encrypt an existing file system later"),
        (drop(FS, "kmsKeyId"), "aws-efs-file-system-encrypted", FS,
         "is encrypted with the AWS-managed aws/elasticfilesystem key, whose policy the account cannot restrict or audit"),
        (set_(BACKUP, "backupPolicy.status", "DISABLED"), "aws-efs-file-system-backups", FS,
         "has no backup policy with status ENABLED, so AWS Backup keeps no copy of its files"),
        (remove(BACKUP), "aws-efs-file-system-backups", FS,
         "has no backup policy with status ENABLED, so AWS Backup keeps no copy of its files"),
        (remove(POLICY), "aws-efs-file-system-tls-only", FS,
         "no file system policy denies NFS clients without TLS (aws:SecureTransport false)"),
        (set_(POLICY, "policy", tls_policy(Condition={"Bool": {"aws:SecureTransport": "true"}})), "aws-efs-file-system-tls-only", FS,
         "no file system policy denies NFS clients without TLS (aws:SecureTransport false)"),
        (set_(POLICY, "policy", tls_policy(Action="elasticfilesystem:ClientMount")), "aws-efs-file-system-tls-only", FS,
         "no file system policy denies NFS clients without TLS (aws:SecureTransport false)"),
        (set_(POLICY, "policy", tls_policy(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), "aws-efs-file-system-tls-only", FS,
         "no file system policy denies NFS clients without TLS (aws:SecureTransport false)"),
        (set_(ACCESS_POINT, "rootDirectory.path", "/"), "aws-efs-access-point-confined", ACCESS_POINT,
         "exposes the whole file system (rootDirectory.path is /), every other volume's files included"),
        (drop(ACCESS_POINT, "posixUser"), "aws-efs-access-point-confined", ACCESS_POINT,
         "enforces no user identity (posixUser uid and gid), so clients write as whichever uid they claim"),
    ],
    ids=["unencrypted", "encryption-default", "aws-managed-key", "backups-disabled", "no-backup-policy", "no-policy", "policy-denies-tls",
         "policy-denies-mount-only", "policy-principal-not-anyone", "access-point-at-root", "access-point-no-user"],
)
def test_each_mutation_fails_exactly_its_rule(pack, edit, policy, resource, fragment):
    verdict = pack.verdict(edited(*file_system(), edit))
    assert verdict.summary() == [(policy, "mandatory", resource)]
    [violation] = verdict.violations
    rule = RULES_BY_NAME[policy]
    assert violation.message == f"{rule.description}\n{resource}: {fragment}. Fix: {rule.remediation}"


def test_a_synonym_for_the_client_actions_still_counts_as_tls_only(pack):
    wildcard = set_(POLICY, "policy", tls_policy(Action=["elasticfilesystem:Client*"]))
    assert pack.verdict(edited(*file_system(), wildcard)).violations == ()


def test_prod_with_efs_volumes_on_services_and_a_job_passes_the_pack(pack):
    """The real program's file systems, access points, NFS rules and task roles (prod, where
    every rule is mandatory) pass with no violation at all."""
    from policies.config_gen import pack_config
    from review.offline import run_program
    from tests.harness import edited as edited_environment

    def with_efs(data: dict) -> None:
        data["storage"] = {"efs": {"uploads": {}, "archive": {"throughput": "bursting"}}}
        data["services"]["api"]["volumes"] = {"data": {"path": "/data", "efs": {"file_system": "uploads", "root": "/api"}}}
        data["services"]["worker"]["volumes"] = {
            "data": {"path": "/data", "read_only": True, "efs": {"file_system": "uploads", "root": "/api"}},
            "archive": {"path": "/archive", "efs": {"file_system": "archive", "root": "/worker"}},
        }

    config = edited_environment("prod", with_efs)
    resources = run_program(config).resources
    assert len([r for r in resources if r.type.startswith("aws:efs/")]) == 2 * (1 + 1 + 1 + 3) + 3
    assert [r.name for r in resources if r.type == "aws:kms/key:Key" and r.name.startswith("prod-storage")] == ["prod-storage-key"]
    verdict = pack.verdict(resources, pack_config(config))
    assert verdict.violations == ()
