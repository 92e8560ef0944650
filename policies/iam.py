"""IAM: least privilege judged by meaning (see iam_meaning.py) wherever a document lives, trust
policies, managed policies, users."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from .delivery import github_trust_problems
from .ecs_task_definition import TASK_DEFINITION, referenced_secrets
from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import as_list, get, is_secrets_manager, items
from .iam_meaning import (
    account_of,
    action_pattern_problem,
    arn_account_exact,
    allows,
    condition_values,
    element,
    exact_condition,
    expand,
    is_anyone,
    parse_arn,
    policy_statements,
    principal_entries,
    role_handover_problems,
    warm_up,
    wildcard_resource_problems,
)

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
DOCUMENT_TYPES = (ROLE, ROLE_POLICY, POLICY, USER_POLICY, GROUP_POLICY)
ATTACHMENT_TYPES = (ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT, USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT)
# Long-lived credentials: workloads and people use roles (tasks, instances, OIDC, SSO).
USER_TYPES = (
    "aws:iam/user:User",
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userLoginProfile:UserLoginProfile",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
    "aws:iam/signingCertificate:SigningCertificate",
    "aws:iam/sshKey:SshKey",
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
)


def permission_documents(props: Mapping, type_: str) -> list[tuple[str, object]]:
    """(label, document) of every permission policy a resource carries (not the trust policy)."""
    if type_ == ROLE:
        return [(f"inline policy {get(p, 'name', default='?')!r}", get(p, "policy")) for p in items(props, "inlinePolicies")]
    return [("policy", get(props, "policy"))]


def document_problems(props: Mapping, type_: str) -> Iterable[str]:
    for label, document in permission_documents(props, type_):
        _statements, problem = policy_statements(document)
        if problem:
            yield f"{label} {problem}, so what it grants cannot be judged"


def allowed_statements(props: Mapping, type_: str) -> Iterable[tuple[str, Mapping]]:
    for label, document in permission_documents(props, type_):
        found, _problem = policy_statements(document)
        for statement in found:
            if allows(statement):
                yield f"{label} statement {element(statement, 'Sid') or '(no Sid)'!r}", statement


def _actions(statement: Mapping) -> list[str]:
    return [str(a) for a in as_list(element(statement, "Action"))]


def _resources(statement: Mapping) -> list[str]:
    return [str(r) for r in as_list(element(statement, "Resource"))]


def wildcard_actions(props: Mapping, settings: Settings) -> Iterable[str]:
    yield from document_problems(props, settings.resource_type)
    for label, statement in allowed_statements(props, settings.resource_type):
        if element(statement, "NotAction") is not None:
            yield f"{label} allows NotAction, i.e. every other action of every service"
        for pattern in _actions(statement):
            problem = action_pattern_problem(pattern)
            if problem:
                yield f"{label} {problem}"


def wildcard_resources(props: Mapping, settings: Settings) -> Iterable[str]:
    for label, statement in allowed_statements(props, settings.resource_type):
        if element(statement, "NotResource") is not None:
            yield f"{label} allows NotResource, i.e. every other resource"
        for problem in wildcard_resource_problems(_actions(statement), _resources(statement)):
            yield f"{label} {problem}"


def role_handover(props: Mapping, settings: Settings) -> Iterable[str]:
    for label, statement in allowed_statements(props, settings.resource_type):
        for problem in role_handover_problems(_actions(statement), _resources(statement), element(statement, "Condition")):
            yield f"{label} {problem}"


# ---- trust policies ---------------------------------------------------------------------------

# Service principals that send the confused-deputy keys, and the keys a trust policy must
# require of them (AWS's advice: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
# Where the documentation names aws:SourceArn as well, it is required too. EC2 sends neither
# key when an instance assumes its role, so ec2.amazonaws.com is exempt.
CONFUSED_DEPUTY_KEYS: dict[str, tuple[str, ...]] = {
    # "use the aws:SourceArn or aws:SourceAccount condition keys" (task roles)
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    "ecs-tasks.amazonaws.com": ("aws:SourceAccount",),
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
    "vpc-flow-logs.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn"),
    # https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
    "scheduler.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn"),
    # https://docs.aws.amazon.com/step-functions/latest/dg/cross-service-confused-deputy-prevention.html
    "states.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn"),
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
    "events.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn"),
    # https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_service-with-iam.html
    "application-autoscaling.amazonaws.com": ("aws:SourceAccount",),
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
    "ecs.amazonaws.com": ("aws:SourceAccount",),
    "ec2.amazonaws.com": (),
}


def trust(props: Mapping, settings: Settings) -> Iterable[str]:
    found, problem = policy_statements(get(props, "assumeRolePolicy"))
    if problem:
        yield f"the trust policy {problem}, so who may assume the role cannot be judged"
    for statement in found:
        if allows(statement):
            yield from trust_statement_problems(statement, settings)


def trust_statement_problems(statement: Mapping, settings: Settings) -> Iterable[str]:
    allowed = set(settings.option("allowedServicePrincipals"))
    account = str(settings.option("accountId") or "")
    condition = element(statement, "Condition")
    if element(statement, "NotPrincipal") is not None:
        yield "the trust policy allows NotPrincipal, i.e. everyone else"
    for kind, value in principal_entries(statement):
        if is_anyone(kind, value):
            yield f"the trust policy admits {value!r}, anyone with AWS credentials"
        elif kind == "Service":
            if value not in allowed:
                yield f"the trust policy admits Service {value}"
            else:
                yield from _deputy_problems(value, condition)
        elif kind == "AWS":
            owner = account_of(value)
            if not (account and owner == account) and not exact_condition(condition, "sts:ExternalId"):
                yield f"the trust policy admits AWS {value} (another account) without an sts:ExternalId condition"
        elif kind == "Federated":  # the CI deploy role: GitHub's OIDC provider, pinned (delivery.py)
            yield from github_trust_problems(statement, value)
        else:
            yield f"the trust policy admits {kind} {value}"


def _deputy_problems(service: str, condition) -> Iterable[str]:
    for key in CONFUSED_DEPUTY_KEYS.get(service, ("aws:SourceAccount",)):
        values = condition_values(condition, key)
        if not exact_condition(condition, key) and not (key == "aws:SourceArn" and values and all(arn_account_exact(v) for v in values)):
            yield f"the trust policy admits {service} without a {key} condition (confused deputy)"


# ---- managed policies -------------------------------------------------------------------------

# AWS managed policies cannot be scoped to this stack's resources; policy_sentry does not ship
# their contents, so they are judged by name. These grant administration or whole services.
BROAD_MANAGED_POLICIES = ("AdministratorAccess*", "PowerUser*", "IAMFullAccess", "*FullAccess*", "ReadOnlyAccess",
                          "*ReadOnlyAccess", "*ReadWrite*", "SecurityAudit", "ViewOnlyAccess")
# The two policies AWS documents for ECS container instances, allowed on EC2 instance roles
# only: the ECS agent registers, polls and pulls with the first; SSM Session Manager (instead
# of SSH) needs the second. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/instance_IAM_role.html
INSTANCE_ROLE_POLICIES = ("AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore")
# The policy AWS documents for the ECS infrastructure role that native blue/green, canary and
# linear deployments use to shift the load balancer's traffic, allowed on roles only ECS assumes.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
INFRASTRUCTURE_ROLE_POLICIES = ("AmazonECSInfrastructureRolePolicyForLoadBalancers",)


def managed_policies(subject, stack: Stack, settings: Settings) -> Iterable[str]:
    props = stack.props(subject)
    if subject.resource_type == ROLE:
        roles, arns = [subject], as_list(get(props, "managedPolicyArns"))
    else:
        roles = stack.linked(subject, "role", (ROLE,)) + stack.linked(subject, "roles", (ROLE,))
        arns = as_list(get(props, "policyArn"))
    instance_role = bool(roles) and all(_trusted_only_by(stack.props(r), "ec2.amazonaws.com") for r in roles)
    infrastructure_role = bool(roles) and all(_trusted_only_by(stack.props(r), "ecs.amazonaws.com") for r in roles)
    for arn in map(str, arns):
        problem = managed_policy_problem(arn, instance_role, settings.option("allowedManagedPolicies"), infrastructure_role)
        if problem:
            yield problem


def managed_policy_problem(arn: str, instance_role: bool, allowed: Iterable[str] = (), infrastructure_role: bool = False) -> str:
    parsed = parse_arn(arn)
    if parsed is None or parsed.account != "aws":
        return ""  # a customer managed policy: judged where its document lives (aws.iam.Policy)
    name = parsed.resource.rsplit("/", 1)[-1]
    if any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in BROAD_MANAGED_POLICIES):
        return f"attaches {arn}, which grants administration or whole services"
    if name in INSTANCE_ROLE_POLICIES:
        return "" if instance_role else f"attaches {arn}, which is for EC2 container instance roles only"
    if name in INFRASTRUCTURE_ROLE_POLICIES:
        return "" if infrastructure_role else f"attaches {arn}, which is for the ECS infrastructure role only"
    if name in set(allowed):
        return ""
    return f"attaches {arn}, an AWS managed policy not scoped to this stack's resources"


def _trusted_only_by(role_props: Mapping, service: str) -> bool:
    statements, _ = policy_statements(get(role_props, "assumeRolePolicy"))
    services = {v for s in statements if allows(s) for k, v in principal_entries(s) if k == "Service"}
    kinds = {k for s in statements if allows(s) for k, _ in principal_entries(s)}
    return services == {service} and kinds == {"Service"}


def no_users(props: Mapping, settings: Settings) -> Iterable[str]:
    kind = settings.resource_type.split(":")[-1]
    yield f"the stack creates an IAM {kind}: long-lived user credentials leak and never expire"


# ---- execution roles --------------------------------------------------------------------------

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
        granted = {a.name for pattern in _actions(statement) for a in expand(pattern)}
        if not granted & set(SECRET_READ_ACTIONS):
            continue
        for resource in filter(may_name_a_secret, _resources(statement)):
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


def called_service_prefixes(role, stack: Stack) -> set[str]:
    """The IAM service prefixes of the actions a role allows (`sqs:SendMessage` -> sqs): the
    APIs a task with this role may call. A grant conditioned on kms:ViaService is used by that
    service on the task's behalf, so it is not a call of the task's own."""
    return {
        pattern.split(":", 1)[0].lower()
        for _label, statement in _role_statements(role, stack)
        if not _through_another_service(statement)
        for pattern in _actions(statement)
        if ":" in pattern
    }


def _through_another_service(statement: Mapping) -> bool:
    condition = element(statement, "Condition")
    keys = [key for block in condition.values() if isinstance(block, Mapping) for key in block] if isinstance(condition, Mapping) else []
    return any(str(key).lower() == "kms:viaservice" for key in keys)


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
    # A task may inject a secret by its partial ARN (no random suffix): the grant for it is
    # exactly `<partial ARN>-??????`, AWS's documented pattern.
    return stem in referenced or any(fnmatch.fnmatchcase(ref, identity) for ref in referenced)


warm_up()  # the action table is read at import, once per pack process

RULES = [
    ResourceRule(
        name="aws-iam-no-wildcard-actions",
        description="IAM policies name their actions: no \"*\", no whole service (s3:*, iam:**), no pattern across services (*:Get*), no NotAction; every document is a JSON policy object.",
        remediation="list the actions the role needs, or use services.<key>.access levels",
        category="security",
        types=DOCUMENT_TYPES,
        check=wildcard_actions,
    ),
    ResourceRule(
        name="aws-iam-no-wildcard-resources",
        description="IAM policies scope Resource (no wildcard account, region or resource id, no NotResource) for every action that supports resource-level permissions.",
        remediation="name the ARNs; Resource \"*\" only for actions without resource-level permissions",
        category="security",
        types=DOCUMENT_TYPES,
        check=wildcard_resources,
    ),
    ResourceRule(
        name="aws-iam-pass-role-scoped",
        description="iam:PassRole and sts:AssumeRole name exact roles, and PassRole is limited by iam:PassedToService.",
        remediation="name each role ARN and add Condition StringEquals iam:PassedToService: <service>.amazonaws.com",
        category="security",
        types=DOCUMENT_TYPES,
        check=role_handover,
    ),
    ResourceRule(
        name="aws-iam-role-trust",
        description="Roles trust only expected service principals with confused-deputy conditions, other accounts with sts:ExternalId, and GitHub OIDC for one repository and branch or environment.",
        remediation="trust the service that uses the role with aws:SourceAccount (and aws:SourceArn), another account with sts:ExternalId; "
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
                "scheduler.amazonaws.com",  # the schedule that starts a job (components/job.py)
                "states.amazonaws.com",  # a scheduled job's state machine
                "events.amazonaws.com",
            ],
            "accountId": "",
        },
        option_schema={
            "allowedServicePrincipals": {"type": "array", "items": {"type": "string"}},
            "accountId": {"type": "string", "description": "This environment's account; principals of other accounts need sts:ExternalId."},
        },
    ),
    StackRule(
        name="aws-iam-no-admin-policies",
        description="Roles get no broad AWS managed policies; the two ECS container instance policies only on EC2 instance roles.",
        remediation="replace the managed policy by statements for what the role does",
        category="security",
        types=(ROLE, *ATTACHMENT_TYPES),
        check=managed_policies,
        options={"allowedManagedPolicies": []},
        option_schema={"allowedManagedPolicies": {"type": "array", "items": {"type": "string"}}},
    ),
    ResourceRule(
        name="aws-iam-no-users",
        description="The stack creates no IAM users, access keys or other long-lived user credentials.",
        remediation="use a role: task roles for tasks, GitHub OIDC for CI, IAM Identity Center for people",
        category="security",
        types=USER_TYPES,
        check=no_users,
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
