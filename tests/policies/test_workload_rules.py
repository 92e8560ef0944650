"""policies/workloads.py through the real pack: a task with a declared scratch volume and an
EFS volume (transit encryption, IAM, access point) passes; each one-field change fails exactly
its rule."""

from __future__ import annotations

import json

import pytest

from policies.registry import RULES_BY_NAME

from .stack import edited, set_

TASK = "prod-api-task"
MOUNTS = "aws-ecs-task-definition-mounts-declared-volumes"
EFS = "aws-ecs-task-definition-efs-encrypted-iam"
EFS_VOLUME = {
    "name": "data",
    "efsVolumeConfiguration": {
        "fileSystemId": "fs-0123456789abcdef0",
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"iam": "ENABLED", "accessPointId": "fsap-0123456789abcdef0"},
    },
}


def with_volumes(volumes=None, mounts=None):
    volumes = volumes if volumes is not None else [{"name": "tmp"}, json.loads(json.dumps(EFS_VOLUME))]
    mounts = mounts if mounts is not None else [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
        {"sourceVolume": "data", "containerPath": "/data", "readOnly": False},
    ]

    def edit(stack: dict) -> None:
        props = stack[TASK]["props"]
        props["volumes"] = volumes
        containers = json.loads(props["containerDefinitions"])
        containers[0]["mountPoints"] = mounts
        props["containerDefinitions"] = json.dumps(containers)

    return edit


def efs_with(**changes):
    volume = json.loads(json.dumps(EFS_VOLUME))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = volume["efsVolumeConfiguration"]
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return [{"name": "tmp"}, volume]


def test_declared_task_storage_and_an_authorized_efs_volume_pass(pack):
    assert pack.verdict(edited(with_volumes())).violations == ()


@pytest.mark.parametrize(
    ("edit", "policy", "fragment"),
    [
        (with_volumes(mounts=[{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}]), MOUNTS,
         "container 'api' mounts /tmp from 'scratch', which the task definition does not declare"),
        (with_volumes(volumes=[{"name": "tmp", "hostPath": "/var/tmp"}, EFS_VOLUME]), MOUNTS,
         "volume 'tmp' mounts the host's /var/tmp; use task storage (no hostPath) or EFS"),
        (with_volumes(volumes=efs_with(transitEncryption="DISABLED")), EFS,
         "EFS volume 'data' is not encrypted in transit (transitEncryption is not ENABLED)"),
        (with_volumes(volumes=efs_with(transitEncryption=None)), EFS,
         "EFS volume 'data' is not encrypted in transit (transitEncryption is not ENABLED)"),
        (with_volumes(volumes=efs_with(authorizationConfig__iam="DISABLED")), EFS,
         "EFS volume 'data' mounts without IAM authorization (authorizationConfig.iam is not ENABLED)"),
        (with_volumes(volumes=efs_with(authorizationConfig__accessPointId=None)), EFS,
         "EFS volume 'data' mounts the file system without an access point (any path, any uid)"),
    ],
    ids=["undeclared-volume", "host-path", "efs-transit-disabled", "efs-transit-default", "efs-no-iam", "efs-no-access-point"],
)
def test_each_mutation_fails_exactly_its_rule(pack, edit, policy, fragment):
    verdict = pack.verdict(edited(edit))
    assert verdict.summary() == [(policy, "mandatory", TASK)]
    [violation] = verdict.violations
    rule = RULES_BY_NAME[policy]
    assert violation.message == f"{rule.description}\n{TASK}: {fragment}. Fix: {rule.remediation}"
