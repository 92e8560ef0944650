"""The loader refuses what the pack's IAM rules would reject (policies/iam_meaning.py is the
one judgement), with file:line, so an environment file never produces a rejected document."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.errors import ConfigError
from configs.loader import load_environment

from .cases import TODAY

HEADER = "environment: dev\naws: {region: eu-west-1, account_id: \"123456789012\"}\ntags: {team: platform}\n"
SERVICE = """\
services:
  api:
    image: {uri: "nginx:1.25"}
    cpu: 256
    memory: 512
    user: "10001"
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


CASES = [
    pytest.param('    permissions: [{actions: ["iam:**"], resources: ["arn:aws:iam::123456789012:role/prod-api"]}]\n', [
        "env.yaml:10: services.api.permissions[0]: grants iam:PassRole without an iam:PassedToService condition naming the service; the platform creates the roles tasks need",
        'env.yaml:10: services.api.permissions[0].actions[0]: allows "iam:**", every action of iam; list the actions, or use `access` levels',
    ], id="double-star"),
    pytest.param('    permissions: [{actions: ["s3:*Object"], resources: ["arn:aws:s3:::*"]}]\n', [
        "env.yaml:10: services.api.permissions[0].resources[0]: grants Write s3:DeleteObject, s3:PutObject, s3:ReplicateObject, s3:RestoreObject; Read s3:GetObject on \"arn:aws:s3:::*\", a wildcard in the resource's own identifier; name the exact ARNs",
    ], id="glob-on-every-bucket"),
    pytest.param('    permissions: [{actions: ["sts:AssumeRole"], resources: ["arn:aws:iam::123456789012:role/prod-*"]}]\n', [
        'env.yaml:10: services.api.permissions[0]: grants sts:AssumeRole on "arn:aws:iam::123456789012:role/prod-*", not one exact role; the platform creates the roles tasks need',
        "env.yaml:10: services.api.permissions[0].resources[0]: grants Write sts:AssumeRole on \"arn:aws:iam::123456789012:role/prod-*\", a wildcard in the resource's own identifier; name the exact ARNs",
    ], id="assume-role-prefix"),
    pytest.param('    permissions: [{actions: ["s3:GetObject"], resources: ["arn:aws:s3:::acme-config/*"]}, {actions: ["ecr:GetAuthorizationToken"], resources: ["*"]}]\n', [], id="scoped-and-star-only"),
    # "*" is not an ARN, yet it is judged as a resource (not skipped as a misplaced one).
    pytest.param('    permissions: [{actions: ["s3:GetObject"], resources: ["*"]}]\n', [
        'env.yaml:10: services.api.permissions[0].resources[0]: grants Read s3:GetObject on Resource "*"; name the exact ARNs',
    ], id="star-on-an-object-action"),
    # A resource the loader's placement check names (unknown service) does not end the statement's judgement.
    pytest.param('    permissions: [{actions: ["s3:GetObject"], resources: ["arn:aws:s3:::acme-config/a.json", "arn:aws:nosuchservice:eu-west-1:123456789012:x", "*"]}]\n', [
        "env.yaml:10: services.api.permissions[0].resources[1]: 'arn:aws:nosuchservice:eu-west-1:123456789012:x': 'nosuchservice' is not an AWS service in the IAM reference; check the ARN",
        'env.yaml:10: services.api.permissions[0].resources[2]: grants Read s3:GetObject on Resource "*"; name the exact ARNs',
    ], id="star-after-an-unknown-service"),
    # Explicit resources are judged by account (not by region); a parameter named with an X is no pattern.
    pytest.param('    secrets: {MAX_CONNECTIONS: {parameter: /prod/MAX_CONNECTIONS}}\n'
                 '    permissions: [{actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-west-1:999999999999:orders"]}]\n', [
        "env.yaml:11: services.api.permissions[0].resources[0]: 'arn:aws:sqs:eu-west-1:999999999999:orders' belongs to account 999999999999, which is neither aws.account_id nor in aws.trusted_accounts (123456789012); add it to aws.trusted_accounts if it is trusted",
    ], id="untrusted-account-in-permissions"),
    # A "*" (judged as a wildcard grant) does not end the judging of the ARNs after it.
    pytest.param('    permissions: [{actions: ["sqs:SendMessage"], resources: ["*", "arn:aws:sqs:eu-west-1:999999999999:orders"]}]\n', [
        'env.yaml:10: services.api.permissions[0].resources[0]: grants Write sqs:SendMessage on Resource "*"; name the exact ARNs',
        "env.yaml:10: services.api.permissions[0].resources[1]: 'arn:aws:sqs:eu-west-1:999999999999:orders' belongs to account 999999999999, which is neither aws.account_id nor in aws.trusted_accounts (123456789012); add it to aws.trusted_accounts if it is trusted",
    ], id="untrusted-account-after-a-star"),
]


@pytest.mark.parametrize(("snippet", "expected"), CASES)
def test_the_loader_refuses_what_the_pack_rejects(workdir: Path, snippet: str, expected: list[str]) -> None:
    (workdir / "env.yaml").write_text(HEADER + SERVICE + snippet)
    assert problems(Path("env.yaml")) == expected


def problems(path: Path) -> list[str]:
    try:
        load_environment(path, today=TODAY)
    except ConfigError as error:
        return [str(issue) for issue in error.issues]
    return []
