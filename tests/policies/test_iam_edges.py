"""Edges of the IAM rules and of iam_meaning.py (IAM judged by meaning): `?` in action
patterns, a service of two actions, a wildcard in an ARN's service, principals of this account,
statements without a Sid, Not* elements in resource policies. Each case changes one statement
of the compliant stack; the whole verdict is compared, message text included."""

from __future__ import annotations

import pytest

from policies import iam_meaning

from .verdicts import problems
from .stack import ACCOUNT, REGION, add, all_mandatory, edited, json_doc, remove, set_, statement

TASK_ROLE, KEY = "prod-api-task-role", "prod-exec-key"
ACTIONS, RESOURCES, HANDOVER, TRUST = ("aws-iam-no-wildcard-actions", "aws-iam-no-wildcard-resources",
                                       "aws-iam-pass-role-scoped", "aws-iam-role-trust")
KEY_POLICY = "aws-kms-key-policy-principals"
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
MISSING = "ec2messages, ecr.dkr, ecs, ecs-agent, ecs-telemetry, kms, logs, secretsmanager, ssm, ssmmessages"
WITH_SQS = "ec2messages, ecr.dkr, ecs, ecs-agent, ecs-telemetry, kms, logs, secretsmanager, sqs, ssm, ssmmessages"
ANYONE = "allows Principal '*' (anyone with AWS credentials) without a condition on the caller's account, organization or network"


def task_statement(**changes):
    return statement(TASK_ROLE, 0, **changes)


def key_policy(*statements):
    return set_(KEY, "policy", json_doc([ROOT, *statements]))


def trust_of(principal, condition=None):
    entry = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        entry["Condition"] = condition
    return set_(TASK_ROLE, "assumeRolePolicy", json_doc([entry]))


CASES = [
    pytest.param([task_statement(Action="iam:PassRol?", Resource="*")],
                 [(HANDOVER, TASK_ROLE, "inline policy 'task' statement 'Config' grants iam:PassRole on \"*\", not one exact role"),
                  (HANDOVER, TASK_ROLE, "inline policy 'task' statement 'Config' grants iam:PassRole without an iam:PassedToService condition naming the service"),
                  (RESOURCES, TASK_ROLE, "inline policy 'task' statement 'Config' grants Permissions management iam:PassRole on Resource \"*\"")], id="question-mark-is-one-character"),
    pytest.param([task_statement(Action="ecs-mcp:*", Resource="*")],
                 [(ACTIONS, TASK_ROLE, "inline policy 'task' statement 'Config' allows \"ecs-mcp:*\", every action of ecs-mcp")], id="every-action-of-a-two-action-service"),
    pytest.param([task_statement(Action="s3:GetObject", Resource=f"arn:aws:*:{REGION}:{ACCOUNT}:acme-config/*")],
                 [(RESOURCES, TASK_ROLE, f"inline policy 'task' statement 'Config' grants Read s3:GetObject on \"arn:aws:*:{REGION}:{ACCOUNT}:acme-config/*\", a wildcard ARN")], id="wildcard-service-in-an-arn"),
    pytest.param([key_policy({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})],
                 [(KEY_POLICY, KEY, f"statement '(no Sid)' {ANYONE}")], id="statement-without-a-sid"),
    pytest.param([key_policy({"Sid": "Rest", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:eu-west-1:123456789012:key/1"})],
                 [(KEY_POLICY, KEY, "statement 'Rest' allows NotResource, i.e. everything else")], id="not-resource-in-a-resource-policy"),
    pytest.param([key_policy({"Sid": "Others", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*"})],
                 [(KEY_POLICY, KEY, "statement 'Others' allows NotAction, i.e. everything else")], id="not-action-in-a-resource-policy"),
]


@pytest.mark.parametrize("edits, expected", CASES)
def test_iam_edges(pack, edits, expected):
    assert problems(pack.verdict(edited(*edits))) == sorted(expected)


OWN_ACCOUNT = all_mandatory(**{TRUST: {"accountId": ACCOUNT}})


@pytest.mark.parametrize("principal", [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/deployer"])
def test_a_principal_of_this_account_needs_no_external_id(pack, principal):
    assert problems(pack.verdict(edited(trust_of({"AWS": principal})), OWN_ACCOUNT)) == []


@pytest.mark.parametrize("principal", ["arn:aws:iam::999999999999:root", "999999999999"])
def test_another_account_needs_an_external_id(pack, principal):
    assert problems(pack.verdict(edited(trust_of({"AWS": principal})), OWN_ACCOUNT)) == [
        (TRUST, TASK_ROLE, f"the trust policy admits AWS {principal} (another account) without an sts:ExternalId condition")]


def test_without_the_account_configured_every_account_is_another(pack):
    principal = f"arn:aws:iam::{ACCOUNT}:root"
    assert problems(pack.verdict(edited(trust_of({"AWS": principal})))) == [
        (TRUST, TASK_ROLE, f"the trust policy admits AWS {principal} (another account) without an sts:ExternalId condition")]


# ---- iam_meaning on its own: the pieces the rules and the config loader share ---------------

@pytest.mark.parametrize("pattern, expected", [
    ("s3:GetObjec?", ["s3:GetObject"]),
    ("s3:?etObject", ["s3:GetObject"]),
    ("S3:GETOBJECT", ["s3:GetObject"]),
    ("s?:GetObject", ["s3:GetObject"]),
    ("s3:GetObject?", []),
    ("s3", []),
    ("nosuchservice:Get*", []),
])
def test_expand(pattern, expected):
    assert [a.name for a in iam_meaning.expand(pattern)] == expected


@pytest.mark.parametrize("name, known", [
    ("s3", True), ("S3", True), ("nosuchservice", False),
    # in ARNs only (no actions of their own): an ARN's service field may name them
    ("elastic-inference", True), ("Route53-Recovery-Control", True),
])
def test_known_service(name, known):
    assert iam_meaning.known_service(name) is known


@pytest.mark.parametrize("pattern, problem", [
    ("*", 'allows "*", actions of every service (and of services AWS adds later)'),
    (" * ", 'allows "*", actions of every service (and of services AWS adds later)'),
    ("*:Get*", 'allows "*:Get*", actions of every service (and of services AWS adds later)'),
    ("s?:GetObject", 'allows "s?:GetObject", actions of every service (and of services AWS adds later)'),
    ("s3:*", 'allows "s3:*", every action of s3'),
    ("S3:**", 'allows "S3:**", every action of s3'),
    ("ecs-mcp:*", 'allows "ecs-mcp:*", every action of ecs-mcp'),
    ("arsenal:*", None),  # a service of one action: "*" names exactly that action
    ("s3:Get*", None),
    ("s3:GetObject", None),
])
def test_action_pattern_problem(pattern, problem):
    assert iam_meaning.action_pattern_problem(pattern) == problem


# ---- the APIs a task role calls (iam.called_service_prefixes), as the endpoint rule reads them

def test_without_nat_a_task_role_calling_sqs_needs_the_sqs_endpoint(pack):
    no_nat = remove("prod-nat-eu-west-1a")
    before = [p for p in problems(pack.verdict(edited(no_nat))) if p[0] == "aws-vpc-endpoints-without-nat"]
    after = [p for p in problems(pack.verdict(edited(no_nat, task_statement(Action="SQS:SendMessage", Resource=f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"))))
             if p[0] == "aws-vpc-endpoints-without-nat"]
    assert before == [("aws-vpc-endpoints-without-nat", "prod-vpc", f"has no NAT gateway and lacks the VPC endpoints {MISSING}, so tasks cannot start")]
    assert after == [("aws-vpc-endpoints-without-nat", "prod-vpc", f"has no NAT gateway and lacks the VPC endpoints {WITH_SQS}, so tasks cannot start")]


def test_a_customer_managed_policy_is_judged_where_its_document_lives(pack):
    attach = add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-api-task-extra",
                 {"role": "prod-api-task-role", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/prod-api-extra"}, links={"role": [TASK_ROLE]})
    assert problems(pack.verdict(edited(attach))) == []


def test_a_set_operator_prefix_still_names_the_operator(pack):
    """ForAnyValue:StringEquals is judged as StringEquals: iam:PassedToService is pinned."""
    passing = task_statement(Action="iam:PassRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/prod-api-task",
                             Condition={"ForAnyValue:StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
    assert problems(pack.verdict(edited(passing))) == []


def test_a_principal_given_as_a_bare_string_is_an_aws_principal(pack):
    principal = "arn:aws:iam::999999999999:root"
    assert problems(pack.verdict(edited(set_(TASK_ROLE, "assumeRolePolicy", json_doc([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]))))) == [
        (TRUST, TASK_ROLE, f"the trust policy admits AWS {principal} (another account) without an sts:ExternalId condition")]


@pytest.mark.parametrize("policy, only_for", [
    ("AmazonECSInfrastructureRolePolicyForLoadBalancers", "the ECS infrastructure role only"),
    ("service-role/AmazonEC2ContainerServiceforEC2Role", "EC2 container instance roles only"),
])
def test_role_specific_policies_need_a_role_of_the_stack_to_judge(pack, policy, only_for):
    """An attachment whose role is not in the stack cannot show that role is ECS's or EC2's."""
    arn = f"arn:aws:iam::aws:policy/{policy}"
    attach = add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-outside-role-policy", {"role": "imported-role", "policyArn": arn})
    assert problems(pack.verdict(edited(attach))) == [
        ("aws-iam-no-admin-policies", "prod-outside-role-policy", f"attaches {arn}, which is for {only_for}")]


def test_a_customer_managed_policy_attached_to_a_task_role_counts_as_its_grant(pack):
    """The secrets rule follows the attachment to the policy by its ARN (no dependency needed)."""
    arn = f"arn:aws:iam::{ACCOUNT}:policy/prod-api-secrets"
    grant = json_doc([{"Sid": "AllSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                       "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*"}])
    edits = [add("aws:iam/policy:Policy", "prod-api-secrets", {"name": "prod-api-secrets", "arn": arn, "policy": grant}),
             add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-api-task-secrets", {"role": "prod-api-task", "policyArn": arn}, links={"role": [TASK_ROLE]})]
    assert problems(pack.verdict(edited(*edits))) == [
        ("aws-iam-execution-role-secrets-scoped", TASK_ROLE,
         f"prod-api-secrets policy statement 'AllSecrets' lets the task role read arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*, "
         "which matches more than one secret or parameter"),
        (RESOURCES, "prod-api-secrets", f"policy statement 'AllSecrets' grants Read secretsmanager:GetSecretValue on \"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*\", a wildcard in the resource's own identifier"),
    ]
