"""IAM: least privilege for task, execution and instance roles."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from .delivery import github_trust_problems
from .ecs_task_definition import TASK_DEFINITION, referenced_secrets
from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import allows, as_list, get, is_secrets_manager, items, principals, statements

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
DOCUMENT_TYPES = (ROLE, ROLE_POLICY, POLICY)


def permission_documents(props: Mapping, type_: str) -> list[tuple[str, object]]:
    """(label, document) of every permission policy a resource carries (not the trust policy)."""
    if type_ == ROLE:
        return [(f"inline policy {get(p, 'name', default='?')!r}", get(p, "policy")) for p in items(props, "inlinePolicies")]
    return [("policy", get(props, "policy"))]


def allowed_statements(props: Mapping, type_: str) -> Iterable[tuple[str, Mapping]]:
    for label, document in permission_documents(props, type_):
        try:
            found = statements(document)
        except ValueError:
            yield label, {"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "not JSON"}
            continue
        for statement in found:
            if allows(statement):
                yield f"{label} statement {statement.get('Sid', '(no Sid)')!r}", statement


def wildcard_actions(props: Mapping, settings: Settings) -> Iterable[str]:
    for label, statement in allowed_statements(props, settings.resource_type):
        if "NotAction" in statement:
            yield f"{label} allows NotAction, i.e. everything else"
        broad = [a for a in as_list(statement.get("Action")) if a == "*" or str(a).endswith(":*")]
        if broad:
            yield f"{label} allows {', '.join(broad)}"


def wildcard_resources(props: Mapping, settings: Settings) -> Iterable[str]:
    unscoped = set(settings.option("unscopedActions"))
    for label, statement in allowed_statements(props, settings.resource_type):
        if "*" not in as_list(statement.get("Resource")):
            continue
        scopable = [a for a in as_list(statement.get("Action")) if a not in unscoped]
        if scopable:
            yield f"{label} grants {', '.join(scopable)} on Resource \"*\""


def trust(props: Mapping, settings: Settings) -> Iterable[str]:
    allowed = set(settings.option("allowedServicePrincipals"))
    for statement in statements(get(props, "assumeRolePolicy")):
        if not allows(statement):
            continue
        for kind, value in principals(statement):
            if kind == "Federated":  # the CI deploy role: GitHub's OIDC provider, pinned (delivery.py)
                yield from github_trust_problems(statement, value)
            elif kind != "Service" or value not in allowed:
                yield f"the trust policy admits {kind} {value}"


def admin_policies(props: Mapping, settings: Settings) -> Iterable[str]:
    arns = as_list(get(props, "managedPolicyArns")) + as_list(get(props, "policyArn"))
    forbidden = set(settings.option("forbiddenManagedPolicies"))
    for arn in arns:
        if str(arn).rsplit("/", 1)[-1] in forbidden:
            yield f"attaches {arn}"


SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath")


def role_secrets(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    """Secret reads of the roles task definitions use. Which role is a task definition's
    execution role and which its task role is read from the link itself (the engine's property
    dependencies, or the ARN's value), never from "depends on": a task definition depends on
    both. An execution role may read exactly what its task definitions inject; a task role
    (the application's own calls) must name each secret it reads."""
    executing = stack.referrers(subject, "executionRoleArn", (TASK_DEFINITION,))
    running = stack.referrers(subject, "taskRoleArn", (TASK_DEFINITION,))
    if not executing and not running:
        return  # not a role of a task definition
    referenced = {secret_identity(ref) for task in executing for ref in referenced_secrets(stack.props(task))}
    for label, statement in _role_statements(subject, stack):
        if not any(fnmatch.fnmatchcase(action, pattern) for pattern in map(str, as_list(statement.get("Action"))) for action in SECRET_READ_ACTIONS):
            continue
        for resource in filter(may_name_a_secret, map(str, as_list(statement.get("Resource")))):
            if executing and not names_referenced(resource, referenced):
                yield f"{label} lets the execution role read {resource}, which its task definitions do not reference"
            elif not executing and not names_one_secret(resource):
                yield f"{label} lets the task role read {resource}, which matches more than one secret or parameter"


def _role_statements(role, stack: Stack) -> Iterable[tuple[str, Mapping]]:
    yield from allowed_statements(stack.props(role), ROLE)
    for policy in stack.referrers(role, "role", (ROLE_POLICY,)):
        yield from ((f"{policy.name} {label}", s) for label, s in allowed_statements(stack.props(policy), ROLE_POLICY))
    for attachment in stack.referrers(role, "role", (ROLE_POLICY_ATTACHMENT,)):
        for policy in stack.linked(attachment, "policyArn", (POLICY,), by=("arn",)):
            yield from ((f"{policy.name} {label}", s) for label, s in allowed_statements(stack.props(policy), POLICY))


def secret_identity(reference: str) -> str:
    """The secret or parameter a task's valueFrom names, in one comparable form.

    Secrets Manager: `arn:...:secret:prod/db-AbCdEf[:json-key:stage:version]` -> the secret ARN;
    SSM: a name `/prod/api/key` or `arn:...:parameter/prod/api/key` -> `ssm:/prod/api/key`."""
    if is_secrets_manager(reference):
        return ":".join(reference.split(":")[:7])
    if ":parameter/" in reference:
        return "ssm:/" + reference.split(":parameter/", 1)[1]
    return "ssm:" + reference


def may_name_a_secret(resource: str) -> bool:
    """Whether a policy Resource can match a Secrets Manager secret or an SSM parameter: `*`,
    or an ARN whose service part matches secretsmanager or ssm (`arn:aws:*:...` does)."""
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return resource == "*" or resource.startswith("/")
    return fnmatch.fnmatchcase("secretsmanager", parts[2]) or fnmatch.fnmatchcase("ssm", parts[2])


def names_one_secret(resource: str) -> bool:
    """Whether a policy Resource names one secret or parameter: no wildcard but Secrets
    Manager's documented `-??????` suffix."""
    stem = secret_identity(resource).removesuffix("-??????")
    return "*" not in stem and "?" not in stem


def names_referenced(resource: str, referenced: set[str]) -> bool:
    """Whether a policy Resource names only referenced secrets. A `-??????` suffix (the random
    part AWS appends to secret names) may stand for that part; any other wildcard may match
    secrets the task never uses, so it does not count."""
    identity = secret_identity(resource)
    if identity in referenced:
        return True
    stem = identity.removesuffix("-??????")
    if stem == identity or "*" in stem or "?" in stem:
        return False
    return any(fnmatch.fnmatchcase(ref, identity) for ref in referenced)


RULES = [
    ResourceRule(
        name="aws-iam-no-wildcard-actions",
        description="IAM policies allow no \"*\" or \"service:*\" actions (and no NotAction).",
        remediation="list the actions the role needs, or use services.<key>.access levels",
        category="security",
        types=DOCUMENT_TYPES,
        check=wildcard_actions,
    ),
    ResourceRule(
        name="aws-iam-no-wildcard-resources",
        description="IAM policies scope Resource wherever the action supports resource-level permissions.",
        remediation="name the ARNs; Resource \"*\" only for actions without resource-level permissions",
        category="security",
        types=DOCUMENT_TYPES,
        check=wildcard_resources,
        options={
            "unscopedActions": [
                # Actions AWS does not scope to resources (Service Authorization Reference).
                "ecr:GetAuthorizationToken",
                "ecs:DescribeTaskDefinition",  # the CI deploy role reads the family's latest revision
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
                "ecs:DiscoverPollEndpoint",
                "logs:DescribeLogGroups",  # ECS Exec's agent checks its group exists
                "cloudwatch:PutMetricData",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "ec2:DescribeTags",
                "sts:GetCallerIdentity",
            ]
        },
        option_schema={"unscopedActions": {"type": "array", "items": {"type": "string"}}},
    ),
    ResourceRule(
        name="aws-iam-role-trust",
        description="Roles trust only the expected AWS service principals.",
        remediation="trust ecs-tasks.amazonaws.com (tasks), ec2.amazonaws.com (instances) or the service that uses the role; "
        "GitHub's OIDC provider only with StringEquals on aud (sts.amazonaws.com) and sub (one repository and branch)",
        category="security",
        types=(ROLE,),
        check=trust,
        options={
            "allowedServicePrincipals": [
                "ecs-tasks.amazonaws.com",
                "ec2.amazonaws.com",
                "vpc-flow-logs.amazonaws.com",
                "application-autoscaling.amazonaws.com",
                "ecs.amazonaws.com",
                "states.amazonaws.com",  # a scheduled job's state machine (components/job.py)
                "scheduler.amazonaws.com",  # the schedule that starts it
            ]
        },
        option_schema={"allowedServicePrincipals": {"type": "array", "items": {"type": "string"}}},
    ),
    ResourceRule(
        name="aws-iam-no-admin-policies",
        description="No role gets AdministratorAccess, PowerUserAccess or IAMFullAccess.",
        remediation="replace the managed policy by statements for what the role does",
        category="security",
        types=(ROLE, ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT),
        check=admin_policies,
        options={"forbiddenManagedPolicies": ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"]},
        option_schema={"forbiddenManagedPolicies": {"type": "array", "items": {"type": "string"}}},
    ),
    StackRule(
        name="aws-iam-execution-role-secrets-scoped",
        description="An execution role may read only the secrets and parameters its task definitions reference; a task role names each secret it reads.",
        remediation="grant secretsmanager:GetSecretValue / ssm:GetParameters on exactly the referenced (or needed) ARNs",
        category="security",
        types=(ROLE,),
        check=role_secrets,
    ),
]
