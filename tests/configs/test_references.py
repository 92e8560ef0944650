"""ARN references judged by their parts (configs/arns.py): service, wildcards, partition, region
and account, access levels that grant nothing, and the task role's policy size. Exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.iam import secret_arn
from configs.loader import load_environment
from tests.configs.cases import TODAY, issue_lines

HEADER = 'environment: dev\naws: {region: eu-west-1, account_id: "123456789012", trusted_accounts: ["210987654321"]}\ntags: {team: platform}\n'
# A valid service on lines 4-9; the line appended to it is line 10.
API = 'services:\n  api:\n    image: {uri: "nginx:1.25"}\n    cpu: 256\n    memory: 512\n    user: "10001"\n'
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


CASES = [
    pytest.param(
        '    access: {write: ["arn:aws:sgs:eu-west-1:123456789012:orders"]}',
        "services.api.access.write[0]: 'arn:aws:sgs:eu-west-1:123456789012:orders': 'sgs' is not an AWS service in the "
        "IAM reference; did you mean 'ses', 'sms', 'sns', 'sqs' or 'sts'?",
        id="unknown_service_in_access",
    ),
    pytest.param(
        f'    access: {{list: ["{QUEUE}"]}}',
        f"services.api.access.list[0]: '{QUEUE}': the IAM reference has no List action for sqs queue; remove it from access.list",
        id="level_without_actions",
    ),
    pytest.param(
        '    access: {read: ["arn:aws:sqs:eu-west-1:123456789012:orders-*"]}',
        "services.api.access.read[0]: 'arn:aws:sqs:eu-west-1:123456789012:orders-*' has a wildcard: access levels would "
        "grant every Read action on every match; name the resource, or write the exact actions in permissions",
        id="wildcard_in_access",
    ),
    pytest.param(
        '    access: {write: ["arn:aws:sqs:us-east-1:123456789012:orders"]}',
        "services.api.access.write[0]: 'arn:aws:sqs:us-east-1:123456789012:orders' is in us-east-1, not eu-west-1; "
        "ECS and the ALB read it from eu-west-1",
        id="queue_in_another_region",
    ),
    pytest.param(
        '    access: {write: ["arn:aws:sqs:eu-west-1:999999999999:orders"]}',
        "services.api.access.write[0]: 'arn:aws:sqs:eu-west-1:999999999999:orders' belongs to account 999999999999, "
        "which is neither aws.account_id nor in aws.trusted_accounts (123456789012, 210987654321); add it to "
        "aws.trusted_accounts if it is trusted",
        id="queue_in_an_untrusted_account",
    ),
    pytest.param(
        '    access: {write: ["arn:aws-cn:sqs:eu-west-1:123456789012:orders"]}',
        "services.api.access.write[0]: 'arn:aws-cn:sqs:eu-west-1:123456789012:orders' is in partition aws-cn, but eu-west-1 is in aws",
        id="another_partition",
    ),
    pytest.param(
        '    secrets: {DB: {secret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/*"}}',
        "services.api.secrets.DB.secret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/*' has a wildcard; "
        "name exactly one resource, since a pattern would grant every match",
        id="wildcard_secret",
    ),
    pytest.param(
        '    secrets: {DB: {secret: "arn:aws:secretsmanager:eu-west-1:999999999999:secret:db-AbCdEf"}}',
        "services.api.secrets.DB.secret: 'arn:aws:secretsmanager:eu-west-1:999999999999:secret:db-AbCdEf' belongs to "
        "account 999999999999, which is neither aws.account_id nor in aws.trusted_accounts (123456789012, 210987654321); "
        "add it to aws.trusted_accounts if it is trusted",
        id="secret_in_an_untrusted_account",
    ),
    pytest.param(
        '    secrets: {DB: {secret: "arn:aws:ssm:eu-west-1:123456789012:parameter/db"}}',
        "services.api.secrets.DB.secret: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db' is not a Secrets Manager "
        "secret ARN (arn:aws:secretsmanager:eu-west-1:<account>:secret:...)",
        id="secret_of_another_service",
    ),
    pytest.param(
        "    secrets: {KEY: {parameter: /prod/api/*}}",
        "services.api.secrets.KEY.parameter: '/prod/api/*' has a wildcard; name exactly one parameter, since a "
        "pattern would grant every match",
        id="wildcard_parameter_name",
    ),
    pytest.param(
        '    secrets: {KEY: {parameter: /prod/api/key, kms_key: "arn:aws:kms:eu-west-1:123456789012:key/*"}}',
        "services.api.secrets.KEY.kms_key: 'arn:aws:kms:eu-west-1:123456789012:key/*' has a wildcard; name exactly "
        "one resource, since a pattern would grant every match",
        id="wildcard_kms_key",
    ),
    pytest.param(
        '    secrets: {KEY: {parameter: "arn:aws:ssm:eu-west-2:123456789012:parameter/prod/key"}}',
        "services.api.secrets.KEY.parameter: 'arn:aws:ssm:eu-west-2:123456789012:parameter/prod/key' is in eu-west-2, "
        "not eu-west-1; ECS and the ALB read it from eu-west-1",
        id="parameter_in_another_region",
    ),
    pytest.param(
        '    permissions: [{actions: ["s3:GetObject"], resources: ["arn:aws:s4:::bucket/*"]}]',
        "services.api.permissions[0].resources[0]: 'arn:aws:s4:::bucket/*': 's4' is not an AWS service in the IAM "
        "reference; did you mean 's3'?",
        id="unknown_service_in_permissions",
    ),
    pytest.param(
        '    permissions: [{actions: ["s3:GetObject"], resources: ["arn:aws:s3:eu-west-1::acme-config/*"]}]',
        "services.api.permissions[0].resources[0]: 'arn:aws:s3:eu-west-1::acme-config/*': s3 ARNs of this kind have no "
        "region, so IAM would match nothing; write 'arn:aws:s3:::acme-config/*'",
        id="s3_object_with_a_region",
    ),
    pytest.param(
        '    access: {read: ["arn:aws:s3::123456789012:acme-config"]}',
        "services.api.access.read[0]: 'arn:aws:s3::123456789012:acme-config': s3 ARNs of this kind have no account, so "
        "IAM would match nothing; write 'arn:aws:s3:::acme-config'",
        id="s3_bucket_with_an_account",
    ),
    pytest.param(
        '    permissions: [{actions: ["iam:GetRole"], resources: ["arn:aws:iam:eu-west-1:123456789012:role/reader"]}]',
        "services.api.permissions[0].resources[0]: 'arn:aws:iam:eu-west-1:123456789012:role/reader': iam ARNs of this "
        "kind have no region, so IAM would match nothing; write 'arn:aws:iam::123456789012:role/reader'",
        id="iam_role_with_a_region",
    ),
    pytest.param(
        '    permissions: [{actions: ["s3:GetObject"], resources: ["bucket/*"]}]',
        "services.api.permissions[0].resources[0]: 'bucket/*' is not an ARN; an ARN reads "
        "arn:<partition>:<service>:<region>:<account>:<resource>",
        id="resource_not_an_arn",
    ),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_reference_is_refused(workdir: Path, line: str, expected: str) -> None:
    (workdir / "env.yaml").write_text(HEADER + API + line + "\n")
    assert issue_lines(Path("env.yaml")) == [f"env.yaml:10: {expected}"]


def test_certificate_in_another_account_is_refused(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(HEADER + 'load_balancer: {certificate_arn: "arn:aws:acm:eu-west-1:999999999999:certificate/abc"}\n')
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:4: load_balancer.certificate_arn: 'arn:aws:acm:eu-west-1:999999999999:certificate/abc' belongs to account "
        "999999999999, which is neither aws.account_id nor in aws.trusted_accounts (123456789012, 210987654321); add it "
        "to aws.trusted_accounts if it is trusted"
    ]


def test_trusted_accounts_and_a_partial_secret_arn_are_accepted(workdir: Path) -> None:
    """A partial secret ARN (no 6-character suffix) is accepted; the execution role is then
    granted AWS's documented `<name>-??????`, the only wildcard a secret reference produces."""
    partial = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/db"
    (workdir / "env.yaml").write_text(
        HEADER + API + f'    secrets: {{DB: {{secret: "{partial}", key: password}}}}\n'
        '    access: {write: ["arn:aws:sqs:eu-west-1:210987654321:orders"]}\n'
    )
    config = load_environment(Path("env.yaml"), today=TODAY)
    assert config.services["api"].secrets["DB"].secret == partial
    assert secret_arn(f"{partial}:password::") == partial + "-??????"
    full = partial + "-AbCdEf"
    assert secret_arn(f"{full}:password::") == full


def test_a_task_role_policy_over_iams_quota_is_refused_at_load(workdir: Path) -> None:
    statements = "".join(
        f'      - {{actions: ["s3:GetObject"], resources: ["arn:aws:s3:::bucket-{index:03d}-with-a-longer-name/*"]}}\n'
        for index in range(120)
    )
    (workdir / "env.yaml").write_text(HEADER + API + "    permissions:\n" + statements)
    (line,) = issue_lines(Path("env.yaml"))
    size = int(line.split("policy is ")[1].split(" ")[0])
    assert size > 10240
    assert line == (
        f"env.yaml:10: services.api.permissions: the task role's policy is {size} characters, over IAM's 10240 for a role's inline policies; narrow the access levels "
        "(e.g. read instead of read+write) or list actions in `permissions`"
    )


def test_a_jobs_task_role_policy_is_judged_after_a_service_without_a_task_role(workdir: Path) -> None:
    """api grants nothing (no task role); the job after it still has its policy measured: 120
    statements, 14,930 characters."""
    statements = "".join(
        f'      - {{actions: ["s3:GetObject"], resources: ["arn:aws:s3:::bucket-{index:03d}-with-a-longer-name/*"]}}\n'
        for index in range(120)
    )
    job = 'jobs:\n  report:\n    image: {uri: "nginx:1.25"}\n    user: "10001"\n    permissions:\n'
    (workdir / "env.yaml").write_text(HEADER + API + job + statements)
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:14: jobs.report.permissions: the task role's policy is 14930 characters, over IAM's 10240 for a role's "
        "inline policies; narrow the access levels (e.g. read instead of read+write) or list actions in `permissions`"
    ]


@pytest.mark.parametrize(("exec_enabled", "size"), [(False, 42729), (True, 43463)])
def test_an_access_only_policy_over_the_quota_is_refused_at_access_with_exec_counted(workdir: Path, exec_enabled: bool, size: int) -> None:
    """Access levels alone can exceed the quota (the problem is then at `access`); with ECS Exec on,
    its statements count at their real length (the exec key and log group ARNs: 734 characters)."""
    objects = ", ".join(f'"arn:aws:s3:::bucket-{index:03d}/config.json"' for index in range(100))
    (workdir / "env.yaml").write_text(
        HEADER + API + f"    access: {{read: [{objects}]}}\n" + f"cluster: {{exec: {{enabled: {str(exec_enabled).lower()}}}}}\n"
    )
    assert issue_lines(Path("env.yaml")) == [
        f"env.yaml:10: services.api.access: the task role's policy is {size} characters, over IAM's 10240 for a role's "
        "inline policies; narrow the access levels (e.g. read instead of read+write) or list actions in `permissions`"
    ]


def test_references_of_jobs_and_sidecars_are_judged_too(workdir: Path) -> None:
    (workdir / "env.yaml").write_text(
        HEADER + API
        + '    sidecars:\n      otel:\n        image: {uri: "nginx:1.25"}\n        cpu: 64\n        memory: 128\n        user: "10001"\n'
        + '        secrets: {TOKEN: {parameter: /prod/*}}\n'
        + 'jobs:\n  report:\n    image: {uri: "nginx:1.25"}\n    user: "10001"\n'
        + '    access: {write: ["arn:aws:sgs:eu-west-1:123456789012:orders"]}\n'
    )
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:16: services.api.sidecars.otel.secrets.TOKEN.parameter: '/prod/*' has a wildcard; name exactly one "
        "parameter, since a pattern would grant every match",
        "env.yaml:21: jobs.report.access.write[0]: 'arn:aws:sgs:eu-west-1:123456789012:orders': 'sgs' is not an AWS "
        "service in the IAM reference; did you mean 'ses', 'sms', 'sns', 'sqs' or 'sts'?",
    ]
