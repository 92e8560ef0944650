"""components/storage.py and the EFS volumes of tasks: the registered file systems, mount
targets, NFS groups and access points exactly; the task definition's efsVolumeConfiguration
(botocore's RegisterTaskDefinition shape); the task role's grants (exact, parliament-clean);
what services and jobs wait for; protection; the blast radius of adding a volume; refusals."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from configs.errors import ConfigError
from configs.loader import load_environment
from tests.components.plan_diff import added_names, changed_resources
from tests.components.test_iam import lint  # noqa: F401  (the parliament fixture)
from tests.components.test_service import register_task_definition_request, validate
from tests.configs.cases import TODAY
from tests.harness import edited, plan_of

ACCOUNT, REGION = "222222222222", "eu-west-1"
FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
FILE_SYSTEM_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def with_efs(data: dict) -> None:
    """uploads (elastic) mounted by api (read-write), worker (read-only, same root) and the job
    sweep; archive (bursting) mounted by worker alone."""
    data["storage"] = {"efs": {"uploads": {}, "archive": {"throughput": "bursting"}}}
    data["services"]["api"]["volumes"] = {"data": {"path": "/data", "efs": {"file_system": "uploads", "root": "/api"}}}
    worker = data["services"]["worker"]
    worker["user"] = "10002:3000"
    worker["volumes"] = {
        "uploads": {"path": "/uploads", "read_only": True, "efs": {"file_system": "uploads", "root": "/api"}},
        "old": {"path": "/archive", "efs": {"file_system": "archive", "root": "/worker"}},
    }
    data["jobs"] = {
        "sweep": {
            "image": {"repository": "worker", "tag": "v2.0.0"},
            "user": "10003",
            "command": ["sweep"],
            "schedule": "rate(1 day)",
            "volumes": {"data": {"path": "/data", "efs": {"file_system": "uploads", "root": "/api/sweep"}}},
        }
    }


@pytest.fixture(scope="module")
def plan():
    return plan_of(edited("staging", with_efs))


def of_type(plan, type_: str) -> dict[str, dict]:
    return {r.name: r.props for r in plan.resources if r.type == type_}


def one(plan, name: str):
    [resource] = [r for r in plan.resources if r.name == name]
    return resource


def group_id(plan, name: str) -> str:
    from review.offline import mock_id

    return mock_id(SECURITY_GROUP, name)


def test_each_file_system_is_encrypted_backed_up_tls_only_and_reachable_from_every_private_subnet(plan):
    file_systems = of_type(plan, FILE_SYSTEM)
    tags = {"cost-center": "4711", "env": "staging", "team": "platform"}
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/staging-storage-key"
    assert file_systems == {
        "staging-storage-archive": {"encrypted": True, "kmsKeyId": key_arn, "performanceMode": "generalPurpose",
                                    "throughputMode": "bursting", "tags": {**tags, "Name": "staging-archive"}},
        "staging-storage-uploads": {"encrypted": True, "kmsKeyId": key_arn, "performanceMode": "generalPurpose",
                                    "throughputMode": "elastic", "tags": {**tags, "Name": "staging-uploads"}},
    }
    key = one(plan, "staging-storage-key")
    assert (key.props["enableKeyRotation"], key.props["deletionWindowInDays"], json.loads(key.props["policy"])) == (
        True, 30, {"Version": "2012-10-17", "Statement": [{
            "Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*", "Resource": "*",
        }]},
    )
    assert {name: p["backupPolicy"] for name, p in of_type(plan, BACKUP_POLICY).items()} == {
        "staging-storage-archive-backup": {"status": "ENABLED"},
        "staging-storage-uploads-backup": {"status": "ENABLED"},
    }
    policy = json.loads(of_type(plan, FILE_SYSTEM_POLICY)["staging-storage-uploads-policy"]["policy"])
    uploads_arn = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{_fs_id('staging-storage-uploads')}"
    assert policy == {"Version": "2012-10-17", "Statement": [{
        "Sid": "TlsOnly", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": uploads_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]}
    subnets = {r.name.split("-private-")[1]: r for r in plan.resources if r.type == "aws:ec2/subnet:Subnet" and "-private-" in r.name}
    assert sorted(subnets) == ["eu-west-1a", "eu-west-1b"]
    targets = of_type(plan, MOUNT_TARGET)
    assert sorted(targets) == [
        "staging-storage-archive-mount-eu-west-1a", "staging-storage-archive-mount-eu-west-1b",
        "staging-storage-uploads-mount-eu-west-1a", "staging-storage-uploads-mount-eu-west-1b",
    ]
    for name, props in targets.items():
        file_system, zone = name.removeprefix("staging-storage-").split("-mount-")
        assert props == {
            "fileSystemId": _fs_id(f"staging-storage-{file_system}"),
            "subnetId": group_or_subnet(subnets[zone].name, "aws:ec2/subnet:Subnet"),
            "securityGroups": [group_id(plan, f"staging-storage-{file_system}-nfs")],
        }


def _fs_id(name: str) -> str:
    from review.offline import mock_id

    return mock_id(FILE_SYSTEM, name)


def group_or_subnet(name: str, type_: str) -> str:
    from review.offline import mock_id

    return mock_id(type_, name)


def test_an_access_point_per_workload_and_volume_with_its_root_and_the_containers_uid_gid(plan):
    def point(file_system: str, root: str, uid: int, gid: int, name: str) -> dict:
        return {
            "fileSystemId": _fs_id(f"staging-storage-{file_system}"),
            "posixUser": {"uid": uid, "gid": gid},
            "rootDirectory": {"path": root, "creationInfo": {"ownerUid": uid, "ownerGid": gid, "permissions": "0750"}},
            "tags": {"cost-center": "4711", "env": "staging", "team": "platform", "Name": name},
        }

    assert of_type(plan, ACCESS_POINT) == {
        "staging-storage-uploads-api.data": point("uploads", "/api", 10001, 10001, "api/data"),  # gid defaults to the uid
        "staging-storage-uploads-worker.uploads": point("uploads", "/api", 10002, 3000, "worker/uploads"),
        "staging-storage-archive-worker.old": point("archive", "/worker", 10002, 3000, "worker/old"),
        "staging-storage-uploads-sweep.data": point("uploads", "/api/sweep", 10003, 10003, "sweep/data"),
    }
    storage = one(plan, "staging-storage")
    for name in (*of_type(plan, ACCESS_POINT), *of_type(plan, FILE_SYSTEM), *of_type(plan, MOUNT_TARGET)):
        assert one(plan, name).parent == storage.urn


def _access_point_id(name: str) -> str:
    from review.offline import mock_id

    return mock_id(ACCESS_POINT, name)


def _access_point_arn(name: str) -> str:
    from review.offline import mock_id

    return f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:access-point/{mock_id(ACCESS_POINT, name)}"


def _fs_arn(name: str) -> str:
    return f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{_fs_id(name)}"


def test_the_task_definition_mounts_through_the_access_point_with_tls_and_iam(plan):
    api = one(plan, "staging-api-task-definition").props
    assert api["volumes"] == [{"name": "data", "efsVolumeConfiguration": {
        "fileSystemId": _fs_id("staging-storage-uploads"),
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"iam": "ENABLED", "accessPointId": _access_point_id("staging-storage-uploads-api.data")},
    }}]
    [main] = json.loads(api["containerDefinitions"])
    assert main["mountPoints"] == [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}]
    worker = one(plan, "staging-worker-task-definition").props
    [main] = json.loads(worker["containerDefinitions"])
    assert main["mountPoints"] == [
        {"sourceVolume": "old", "containerPath": "/archive", "readOnly": False},
        {"sourceVolume": "uploads", "containerPath": "/uploads", "readOnly": True},
    ]
    for name in ("staging-api-task-definition", "staging-worker-task-definition", "staging-sweep-task-definition"):
        request = register_task_definition_request(one(plan, name))
        assert [v["efsVolumeConfiguration"]["transitEncryption"] for v in request["volumes"]] != []
        validate("RegisterTaskDefinition", request)


def test_botocore_refuses_a_misspelt_efs_volume_configuration(plan):
    request = register_task_definition_request(one(plan, "staging-api-task-definition"))
    request["volumes"] = [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "ON", "authorization": {}}}]
    with pytest.raises(AssertionError, match="Unknown parameter in volumes\\[0\\].efsVolumeConfiguration: \"authorization\""):
        validate("RegisterTaskDefinition", request)


def efs_statements(plan, role: str) -> list[dict]:
    document = json.loads(one(plan, f"{role}-policy").props["policy"])
    return [s for s in document["Statement"] if s["Sid"].startswith("Efs")]


def test_the_task_role_may_mount_only_through_its_own_access_points(plan):
    def grant(sid: str, actions: list[str], file_system: str, access_point: str) -> dict:
        return {
            "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [_fs_arn(f"staging-storage-{file_system}")],
            "Condition": {"ArnEquals": {"elasticfilesystem:AccessPointArn": _access_point_arn(access_point)}},
        }

    mount, write = "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"
    assert efs_statements(plan, "staging-api-task") == [
        grant("EfsData", [mount, write], "uploads", "staging-storage-uploads-api.data")
    ]
    assert efs_statements(plan, "staging-worker-task") == [
        grant("EfsOld", [mount, write], "archive", "staging-storage-archive-worker.old"),
        grant("EfsUploads", [mount], "uploads", "staging-storage-uploads-worker.uploads"),  # read_only: no ClientWrite
    ]
    assert efs_statements(plan, "staging-sweep-task") == [
        grant("EfsData", [mount, write], "uploads", "staging-storage-uploads-sweep.data")
    ]
    # The job's task role exists only for its volume: it grants nothing else.
    assert json.loads(one(plan, "staging-sweep-task-policy").props["policy"])["Statement"] == efs_statements(plan, "staging-sweep-task")


def test_the_efs_grants_pass_parliament(plan, lint):  # noqa: F811
    for role in ("staging-api-task", "staging-worker-task", "staging-sweep-task"):
        document = {"Version": "2012-10-17", "Statement": efs_statements(plan, role)}
        assert lint("task", document) == [], role


def test_nfs_is_open_only_between_each_file_system_and_the_tasks_that_mount_it(plan):
    groups = {name: group_id(plan, name) for name in of_type(plan, SECURITY_GROUP)}
    by_group = {gid: name for name, gid in groups.items()}
    nfs_groups = {groups["staging-storage-uploads-nfs"]: "uploads", groups["staging-storage-archive-nfs"]: "archive"}
    ingress = [
        (nfs_groups[p["securityGroupId"]], by_group[p["referencedSecurityGroupId"]], p["fromPort"], p["toPort"], p["ipProtocol"])
        for p in of_type(plan, INGRESS).values() if p["securityGroupId"] in nfs_groups
    ]
    assert sorted(ingress) == [
        ("archive", "staging-worker-sg", 2049, 2049, "tcp"),
        ("uploads", "staging-api-sg", 2049, 2049, "tcp"),
        ("uploads", "staging-sweep-sg", 2049, 2049, "tcp"),
        ("uploads", "staging-worker-sg", 2049, 2049, "tcp"),
    ]
    assert not [p for p in of_type(plan, EGRESS).values() if p["securityGroupId"] in nfs_groups]
    nfs_egress = sorted(
        (by_group[p["securityGroupId"]], nfs_groups[p["referencedSecurityGroupId"]])
        for p in of_type(plan, EGRESS).values() if p.get("referencedSecurityGroupId") in nfs_groups
    )
    assert nfs_egress == [("staging-api-sg", "uploads"), ("staging-sweep-sg", "uploads"),
                          ("staging-worker-sg", "archive"), ("staging-worker-sg", "uploads")]
    [service] = [r for r in plan.resources if r.type == "ecsplatform:service:Service" and r.name == "staging-api"]
    assert one(plan, "staging-api-to-efs-uploads-ingress").parent == service.urn


def test_services_and_scheduled_jobs_wait_for_the_mount_targets_and_nfs_rules(plan):
    def urns(*names: str) -> set[str]:
        return {one(plan, name).urn for name in names}

    worker_waits = urns(
        "staging-storage-archive-mount-eu-west-1a", "staging-storage-archive-mount-eu-west-1b",
        "staging-storage-uploads-mount-eu-west-1a", "staging-storage-uploads-mount-eu-west-1b",
        "staging-worker-to-efs-archive-egress", "staging-worker-to-efs-archive-ingress",
        "staging-worker-to-efs-uploads-egress", "staging-worker-to-efs-uploads-ingress",
    )
    assert worker_waits <= set(one(plan, "staging-worker-service").depends_on)
    job_waits = urns(
        "staging-storage-uploads-mount-eu-west-1a", "staging-storage-uploads-mount-eu-west-1b",
        "staging-sweep-to-efs-uploads-egress", "staging-sweep-to-efs-uploads-ingress",
    )
    assert job_waits <= set(one(plan, "staging-sweep-run").depends_on)
    assert not {r.urn for r in plan.resources if r.type == MOUNT_TARGET} & set(one(plan, "staging-api-service").depends_on) - urns(
        "staging-storage-uploads-mount-eu-west-1a", "staging-storage-uploads-mount-eu-west-1b")


def test_no_vpc_endpoint_is_added_for_efs():
    before = plan_of(edited("dev", lambda data: None))
    after = plan_of(edited("dev", _dev_efs))
    endpoints = lambda p: sorted(r.name for r in p.resources if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint")  # noqa: E731
    assert endpoints(after) == endpoints(before)


def _dev_efs(data: dict) -> None:
    data["storage"] = {"efs": {"uploads": {}}}
    data["services"]["api"]["volumes"] = {"data": {"path": "/data", "efs": {"file_system": "uploads", "root": "/api"}}}


def test_the_production_tier_protects_the_file_system_and_its_key_and_nothing_that_can_be_recreated():
    plan = plan_of(edited("prod", _dev_efs))
    protected = {r.name for r in plan.resources if r.protect and r.name.startswith("prod-storage")}
    assert protected == {"prod-storage-uploads", "prod-storage-key"}
    staging = plan_of(edited("staging", _dev_efs))
    assert not [r.name for r in staging.resources if r.protect and r.type.startswith("aws:efs/")]


def test_adding_a_volume_touches_only_its_task_its_access_point_and_its_nfs_rules():
    def api_only(data: dict) -> None:
        data["storage"] = {"efs": {"uploads": {}}}
        data["services"]["api"]["volumes"] = {"data": {"path": "/data", "efs": {"file_system": "uploads", "root": "/api"}}}

    def and_worker(data: dict) -> None:
        api_only(data)
        data["services"]["worker"]["volumes"] = {"shared": {"path": "/shared", "read_only": True, "efs": {"file_system": "uploads", "root": "/api"}}}

    before, after = plan_of(edited("staging", api_only)), plan_of(edited("staging", and_worker))
    changes = changed_resources(before, after)
    assert {name: sorted(props) for name, props in changes.items()} == {
        "staging-worker-task-definition": ["containerDefinitions", "volumes"],
        "staging-worker-task-policy": ["policy"],
    }
    assert added_names(before, after) == [
        "staging-storage-uploads-worker.shared",
        "staging-worker-to-efs-uploads-egress",
        "staging-worker-to-efs-uploads-ingress",
    ]


# --------------------------------------------------------------------------------------------
# refusals and warnings
# --------------------------------------------------------------------------------------------

HEADER = """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform}
storage:
  efs:
    uploads: {}
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    volumes:
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # reports name files relative to the working directory
    return tmp_path


def report_of(directory: Path, text: str) -> list[str]:
    (directory / "env.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_environment(directory / "env.yaml", today=TODAY)
    return [str(issue) for issue in error.value.issues]


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        ("data: {path: /data, efs: {file_system: upload, root: /api}}",
         "services.api.volumes.data.efs.file_system: 'upload' is not declared under storage.efs (uploads); "
         "declare it, e.g. storage: {efs: {upload: {}}}"),
        ("data: {path: /data, efs: {file_system: uploads, root: /}}",
         "services.api.volumes.data.efs.root: / is the whole file system, every other volume's files included; give the "
         "volume a directory of its own, e.g. /api (FSBP EFS.3)"),
        ("data: {path: /data, efs: {file_system: uploads, root: api}}",
         "services.api.volumes.data.efs.root: 'api' is not absolute; write the directory from the file system's root, e.g. /api"),
        ("data: {path: /data, efs: {file_system: uploads, root: /api/../etc}}",
         "services.api.volumes.data.efs.root: '/api/../etc' contains . or ..; write the directory itself, e.g. /api"),
        ("data: {path: /data, efs: {file_system: uploads, root: /api/}}",
         "services.api.volumes.data.efs.root: '/api/' has an empty directory name (// or a trailing /); write e.g. /api/data"),
        ("data: {path: /data, efs: {file_system: uploads, root: /a/b/c/d/e}}",
         "services.api.volumes.data.efs.root: '/a/b/c/d/e' is longer than EFS allows (100 characters, 4 directories deep); shorten it"),
        ("data: {path: /data, efs: {file_system: uploads, root: /api/.cache}}",
         "services.api.volumes.data.efs.root: '/api/.cache' has a directory starting with a dot, which EFS refuses; rename it"),
        ("data: {path: /data, efs: {file_system: uploads, root: '/a$b'}}",
         "services.api.volumes.data.efs.root: '/a$b' contains $, which EFS refuses in a directory; use letters, digits, - and _"),
        ("data: {path: /data, efs: {file_system: uploads}}",
         "services.api.volumes.data.efs.root: missing required key 'root'"),
        ("data: {path: /data, efs: {file_system: uploads, root: /api, uid: 1}}",
         "services.api.volumes.data.efs.uid: unknown key 'uid'; valid keys here: file_system, root"),
    ],
    ids=["undeclared", "whole-file-system", "relative", "dot-dot", "trailing-slash", "too-deep", "hidden", "refused-character", "no-root", "unknown-key"],
)
def test_bad_efs_volumes_are_refused_with_the_line_and_the_fix(workdir: Path, volume: str, expected: str):
    assert report_of(workdir, HEADER + "      " + volume + "\n") == [f"env.yaml:14: {expected}"]


def test_an_invisible_character_in_root_is_refused(workdir: Path):
    [line] = report_of(workdir, HEADER + "      data: {path: /data, efs: {file_system: uploads, root: \"/ap\u200bi\"}}\n")
    assert line.startswith("env.yaml:14: services.api.volumes.data.efs.root: ")
    assert "U+200B (ZERO WIDTH SPACE)" in line


def test_a_user_name_cannot_own_efs_files(workdir: Path):
    text = HEADER.replace('user: "10001"', "user: app") + "      data: {path: /data, efs: {file_system: uploads, root: /api}}\n"
    assert report_of(workdir, text) == [
        "env.yaml:10: services.api.user: 'app' is not a numeric uid[:gid], and the task's EFS access points run every file "
        "operation as a numeric uid and gid; write e.g. 10001 or 10001:10001"
    ]


def test_an_unmounted_file_system_is_a_warning_not_an_error(workdir: Path, caplog):
    (workdir / "env.yaml").write_text(HEADER.removesuffix("    volumes:\n"), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="configs"):
        config = load_environment(workdir / "env.yaml", today=TODAY)
    assert sorted(config.storage.efs) == ["uploads"]
    [record] = [r.getMessage() for r in caplog.records]
    assert record == (
        "warning: env.yaml:6: storage.efs.uploads: no volume mounts the file system 'uploads'; it is still created, backed up and billed "
        "for what it stores. Mount it with volumes.<v>.efs.file_system, or remove it once its data is no longer needed"
    )


def test_the_readmes_worked_example_loads_and_plans_onto_dev():
    import re

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### EFS: files that outlive the task"):]
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))

    def merge(data: dict) -> None:
        data["storage"] = example["storage"]
        for key, service in example["services"].items():
            data["services"][key].update(service)

    plan = plan_of(edited("dev", merge))
    assert sorted(r.name for r in plan.resources if r.type == ACCESS_POINT) == [
        "dev-storage-uploads-api.data", "dev-storage-uploads-worker.uploads"
    ]


def test_the_diagram_draws_each_file_system_and_the_tasks_that_mount_it(plan):
    from review.diagram import render_mermaid

    lines = render_mermaid(edited("staging", with_efs), plan).splitlines()
    assert [line for line in lines if "efs_" in line] == [
        '  efs_archive[("EFS archive<br/>bursting throughput, encrypted, backed up")]',
        '  efs_uploads[("EFS uploads<br/>elastic throughput, encrypted, backed up")]',
        '  svc_api ==>|"/data = /api (rw, nfs tls)"| efs_uploads',
        '  job_sweep ==>|"/data = /api/sweep (rw, nfs tls)"| efs_uploads',
        '  svc_worker ==>|"/archive = /worker (rw, nfs tls)"| efs_archive',
        '  svc_worker ==>|"/uploads = /api (ro, nfs tls)"| efs_uploads',
    ]


def test_the_task_role_size_check_counts_the_efs_grants():
    from configs.checks import check_task_role_policy_size

    def many_volumes(data: dict) -> None:
        data["storage"] = {"efs": {"uploads": {}}}
        data["services"]["worker"]["volumes"] = {
            f"v{index}": {"path": f"/v{index}", "efs": {"file_system": "uploads", "root": f"/w{index}"}} for index in range(40)
        }

    with pytest.raises(ConfigError) as error:
        edited("staging", many_volumes)
    [issue] = [i for i in error.value.issues if "task role" in i.message]
    assert issue.path == "services.worker.volumes" and "over IAM's 10240" in issue.message  # neither permissions nor access
    assert list(check_task_role_policy_size(edited("staging", with_efs), TODAY)) == []


def test_a_task_never_falls_back_to_task_storage_for_an_efs_volume():
    from components.service import task_args
    from components.storage import access_point_requests
    from components.task import Task
    from tests.components.test_service import service_args

    config = edited("staging", _dev_efs)
    args = service_args(config, "api", None)
    with pytest.raises(ValueError, match=r"^api: the EFS volumes data have no access point \(TaskArgs.efs\)$"):
        Task("staging-api", task_args(args))
    undeclared = config.model_copy(update={"storage": config.storage.model_copy(update={"efs": {}})})
    with pytest.raises(ValueError, match=r"^api.volumes.data: 'uploads' is not declared under storage.efs$"):
        access_point_requests(undeclared)
