"""Edges of the secret rules: where aws-secrets-no-plaintext-values looks (health checks,
base64 user data, a schedule's input, parameters without a type, name or value), what
detect-secrets' measures decide (secret_values.py), and Secrets Manager's resource policies on
the secret itself. Each case changes one thing of the compliant stack; the whole verdict is
compared, message text included."""

from __future__ import annotations

import base64
import json

import pytest

from policies import secret_values

from .verdicts import problems
from .stack import ACCOUNT, REGION, SECRET, add, all_mandatory, container, edited, json_doc, set_

PLAIN, TASK, TEMPLATE = "aws-secrets-no-plaintext-values", "prod-api-task", "prod-general-lt"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
RANDOM = "q8Zr2Lx9Vb4Nw7Ty1Ks5Gm3Hp6Jd0Fc"


def parameter(**props):
    return add("aws:ssm/parameter:Parameter", "prod-setting", props)


def schedule_input(document) -> list:
    return [add("aws:scheduler/schedule:Schedule", "prod-reports-schedule", {
        "scheduleExpression": "cron(0 3 * * ? *)", "flexibleTimeWindow": {"mode": "OFF"},
        "target": {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod", "roleArn": "arn:role", "input": json.dumps(document)}})]


PLAINTEXT_CASES = [
    pytest.param([container("healthCheck", {"command": ["CMD-SHELL", "curl -f https://admin:hunter2x@localhost:8080/health"], "interval": 30})],
                 [(PLAIN, TASK, "container 'api' healthCheck holds a credential (Basic Auth Credentials)")], id="health-check-command"),
    pytest.param([container("environment", [{"name": "UPSTREAM", "value": f"{AWS_KEY} postgres://app:s3cr3t-pw@db.internal:5432/orders"}])],
                 [(PLAIN, TASK, "container 'api' environment UPSTREAM holds a credential (AWS Access Key, Basic Auth Credentials)")], id="two-kinds-in-one-value"),
    pytest.param([container("environment", [{"value": AWS_KEY}])],
                 [(PLAIN, TASK, "container 'api' environment  holds a credential (AWS Access Key)")], id="variable-without-a-name"),
    pytest.param([set_(TEMPLATE, "userDataBase64", base64.b64encode(f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={AWS_KEY}\n".encode()).decode())],
                 [(PLAIN, TEMPLATE, "userDataBase64 holds a credential (AWS Access Key)")], id="user-data-base64"),
    pytest.param([set_(TEMPLATE, "userData", base64.encodebytes(f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={AWS_KEY}\n".encode() * 3).decode())],
                 [(PLAIN, TEMPLATE, "userData holds a credential (AWS Access Key)")], id="user-data-base64-in-lines"),
    pytest.param(schedule_input({"containerOverrides": [{"name": "reports", "environment": [{"name": "UPSTREAM_ID", "value": AWS_KEY}]}]}),
                 [(PLAIN, "prod-reports-schedule", "target.input environment UPSTREAM_ID holds a credential (AWS Access Key)"),
                  (PLAIN, "prod-reports-schedule", "target.input holds a credential (AWS Access Key)")], id="schedule-input"),
    pytest.param([parameter(name="/prod/api/UPSTREAM_ID", value=AWS_KEY)],
                 [(PLAIN, "prod-setting", "String parameter UPSTREAM_ID holds a credential (AWS Access Key)")], id="parameter-type-unset-is-string"),
    pytest.param([parameter(type="StringList", name="/prod/api/UPSTREAM_IDS", value=f"a,{AWS_KEY}")],
                 [(PLAIN, "prod-setting", "StringList parameter UPSTREAM_IDS holds a credential (AWS Access Key)")], id="string-list-parameter"),
    pytest.param([parameter(type="String", value=AWS_KEY)],
                 [(PLAIN, "prod-setting", "String parameter  holds a credential (AWS Access Key)")], id="parameter-without-a-name"),
    pytest.param([parameter(type="String", name="/prod/api/UPSTREAM_ID", insecureValue=AWS_KEY)],
                 [(PLAIN, "prod-setting", "String parameter UPSTREAM_ID holds a credential (AWS Access Key)")], id="parameter-insecure-value"),
    pytest.param([parameter(type="String", name="/prod/api/DB_PASSWORD", insecureValue="hunter2")],
                 [(PLAIN, "prod-setting", "String parameter DB_PASSWORD is named like a secret")], id="secret-name-insecure-value"),
]


@pytest.mark.parametrize("edits, expected", PLAINTEXT_CASES)
def test_plaintext_edges(pack, edits, expected):
    assert problems(pack.verdict(edited(*edits))) == expected


@pytest.mark.parametrize("edits", [
    pytest.param([parameter(type="String", name="/prod/api/DB_PASSWORD")], id="parameter-without-a-value"),
    pytest.param([parameter(type="String", name="/prod/api/DB_PASSWORD", value="", insecureValue="")], id="parameter-with-empty-values"),
    pytest.param([container("environment", [{"name": "UPSTREAM_URL"}])], id="variable-without-a-value"),
    pytest.param([set_(TEMPLATE, "userData", "#!/bin/bash\necho ECS_CLUSTER=prod >> /etc/ecs/ecs.config\n")], id="plain-user-data"),
])
def test_nothing_to_find(pack, edits):
    assert problems(pack.verdict(edited(*edits))) == []


# ---- secret_values: detect-secrets' entropy limits and the user-data decoding ---------------

def test_entropy_is_measured_against_detect_secrets_limits():
    base64_plugin, hex_plugin = secret_values._entropy()
    assert (base64_plugin.entropy_limit, hex_plugin.entropy_limit) == (4.5, 3.0)
    hex_token = "0123456789abcdef"  # 16 distinct hex digits: exactly 4 bits each, above 3.0
    assert secret_values.high_entropy(hex_token)
    assert not secret_values.high_entropy("0000000011111111")  # 1 bit per character
    assert secret_values.high_entropy(RANDOM)
    assert not secret_values.high_entropy("abababababababababab")
    # Exactly at a limit is not above it: 8 hex digits twice each (3.0 bits), and 16 letters
    # once plus 8 twice (4.5 bits; no hex digit, so only the base64 measure applies).
    assert hex_plugin.calculate_shannon_entropy("abcdef01abcdef01") == 3.0
    assert not secret_values.high_entropy("abcdef01abcdef01")
    assert base64_plugin.calculate_shannon_entropy("ghijklmnopqrstuvGHIJKLMNGHIJKLMN") == 4.5
    assert not secret_values.high_entropy("ghijklmnopqrstuvGHIJKLMNGHIJKLMN")


def test_every_kind_of_credential_in_a_value_is_named():
    value = f"{AWS_KEY} postgres://app:s3cr3t-pw@db.internal:5432/orders"
    assert secret_values.value_problem(value) == "holds a credential (AWS Access Key, Basic Auth Credentials)"


@pytest.mark.parametrize("text, expected", [
    (base64.b64encode(b"#!/bin/bash\necho hi\n").decode(), "#!/bin/bash\necho hi\n"),
    (base64.encodebytes(b"#!/bin/bash\necho hi\n" * 5).decode(), "#!/bin/bash\necho hi\n" * 5),  # wrapped at 76 characters
    ("#!/bin/bash\necho hi\n", "#!/bin/bash\necho hi\n"),  # not base64: the text itself
    ("aG-k=", "aG-k="),  # strict base64 only: '-' is not in its alphabet (a lax decoder would skip it and read "hi")
    (base64.b64encode(b"\xff\xfe\xfd").decode(), base64.b64encode(b"\xff\xfe\xfd").decode()),  # not UTF-8
])
def test_user_data_text(text, expected):
    assert secret_values.user_data_text(text) == expected


# ---- Secrets Manager: the secret's own policy ---------------------------------------------

SECRET_RESOURCE = "aws:secretsmanager/secret:Secret"


def test_a_secret_without_a_policy_passes(pack):
    assert problems(pack.verdict(edited(add(SECRET_RESOURCE, "prod-db-secret", {"name": "prod/db"})))) == []


def test_a_secret_whose_own_policy_admits_anyone_fails(pack):
    policy = json_doc([{"Sid": "Share", "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}])
    verdict = pack.verdict(edited(add(SECRET_RESOURCE, "prod-db-secret", {"name": "prod/db", "policy": policy})))
    assert problems(verdict) == [("aws-secretsmanager-policy-principals", "prod-db-secret",
                                  "statement 'Share' allows Principal '*' (anyone with AWS credentials) without a condition on "
                                  "the caller's account, organization or network")]
