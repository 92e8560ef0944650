"""One job: a task that runs and exits. Its task (components/task.py, shared with services), its
security group, and, with a `schedule`, the chain that runs it:

    aws:scheduler/schedule:Schedule  -> aws:sfn/stateMachine:StateMachine -> ecs:runTask.sync
    (dead-letter SQS queue)             (timeout_minutes, retries)

EventBridge Scheduler's own retry policy covers failed deliveries only: it neither stops a task
that runs too long nor reruns one that failed. The state machine does both: `.sync` waits for
the task to stop and fails the state when a container exits non-zero, `TimeoutSeconds` fails it
(and Step Functions stops the task) after `timeout_minutes`, and `Retry` runs it again.
https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html

Children (`<name>` is `<env>-<key>`):

    <name>                   ecsplatform:task:Task (log group, roles, task definition)
    <name>-sg                aws:ec2/securityGroup:SecurityGroup (+ HTTPS egress rules)
    <name>-dlq               aws:sqs/queue:Queue                     scheduled jobs only
    <name>-runner            aws:iam/role:Role (+ -runner-policy)    the state machine's role
    <name>-run               aws:sfn/stateMachine:StateMachine
    <name>-scheduler         aws:iam/role:Role (+ -scheduler-policy) the schedule's role
    <name>-schedule          aws:scheduler/schedule:Schedule
    <name>-before            command:local:Command  `before: [service]` (deploys: pulumi): runs the
                             task during `pulumi up` before those services roll out (run_before)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
from pulumi_command import local as command_local

from configs.model import Job as JobConfig
from configs.model import StrategyEntry
from components.arns import POLICY_VERSION
from components.facts import PlatformFacts
from components.logs import log_group_name
from components.naming import autonamed, bounded, child, family, type_token
from components.service import https_to_aws, repositories_not_yet_created
from components.storage import EfsMount, nfs_rules
from components.task import Task, TaskArgs
from jobs.before import INTERPRETER, before_script

# The rule Step Functions manages in the account to learn that a `.sync` ECS task stopped.
# https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html
SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"
RETRY_INTERVAL_SECONDS = 60
RETRY_BACKOFF_RATE = 2.0
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: time to look at a failed delivery


@dataclass(frozen=True)
class JobArgs:
    key: str
    job: JobConfig
    environment: str
    facts: PlatformFacts
    strategy: tuple[StrategyEntry, ...]
    uses_ec2: bool
    architecture: str
    exec_enabled: bool
    log_retention_days: int
    log_kms_key_arn: Optional[pulumi.Input[str]]
    image: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    capacity_provider_names: dict[str, pulumi.Input[str]]
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]
    exec_kms_key_arn: Optional[pulumi.Input[str]]
    tags: dict[str, str]
    protect: bool
    aws_egress: str = "nat"
    endpoint_security_group_id: Optional[pulumi.Input[str]] = None
    s3_prefix_list_id: Optional[pulumi.Input[str]] = None
    dynamodb_prefix_list_id: Optional[pulumi.Input[str]] = None
    exec_log_group_name: Optional[pulumi.Input[str]] = None
    sidecar_images: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    efs: dict[str, EfsMount] = field(default_factory=dict)  # EFS volume -> file system, access point (storage.py)


# --------------------------------------------------------------------------------------------
# Pure functions: the documents AWS receives
# --------------------------------------------------------------------------------------------


def trust_policy(service: str, account_id: str, source_arn: str) -> dict:
    """Trusted by one AWS service, for this account and the one resource that assumes the role
    (the confused-deputy guard: aws:SourceAccount and aws:SourceArn, as both services document:
    https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html,
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id, "aws:SourceArn": source_arn}},
            }
        ],
    }


def state_machine_arn(facts: PlatformFacts, name: str) -> str:
    return f"arn:{facts.partition}:states:{facts.region}:{facts.account_id}:stateMachine:{name}"


def schedule_group_arn(facts: PlatformFacts) -> str:
    """Scheduler assumes the role on behalf of the schedule group (its documented SourceArn)."""
    return f"arn:{facts.partition}:scheduler:{facts.region}:{facts.account_id}:schedule-group/default"


def runner_policy(
    *, facts: PlatformFacts, task_family: str, cluster_arn: str, cluster_name: str, role_arns: list[str]
) -> dict:
    """The state machine's role: run tasks of this family in this cluster, see and stop them,
    pass the job's roles to ECS tasks only, and manage the rule `.sync` listens on."""
    ecs = f"arn:{facts.partition}:ecs:{facts.region}:{facts.account_id}"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "RunThisJobsTasks",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": f"{ecs}:task-definition/{task_family}:*",
                "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
            },
            {
                "Sid": "WatchAndStopThem",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
                "Resource": f"{ecs}:task/{cluster_name}/*",
                "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
            },
            {
                "Sid": "PassTheJobsRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role_arns,
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Sid": "ManageTheSyncRule",
                "Effect": "Allow",
                "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                "Resource": f"arn:{facts.partition}:events:{facts.region}:{facts.account_id}:rule/{SYNC_RULE}",
            },
        ],
    }


def scheduler_policy(state_machine_arn: str, queue_arn: str) -> dict:
    """The schedule's role: start this state machine and send failed deliveries to its queue."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "StartTheJob", "Effect": "Allow", "Action": "states:StartExecution", "Resource": state_machine_arn},
            {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
        ],
    }


def state_machine_definition(
    *,
    job: JobConfig,
    cluster_arn: str,
    task_definition_arn: str,
    capacity: list[dict[str, Any]],
    subnets: list[str],
    security_group: str,
) -> dict:
    """One Task state: ecs:runTask.sync with the job's network and capacity, failed after
    timeout_minutes, retried `retries` times with backoff."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::ecs:runTask.sync",
        "Parameters": {
            "Cluster": cluster_arn,
            "TaskDefinition": task_definition_arn,
            "CapacityProviderStrategy": capacity,
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {"Subnets": subnets, "SecurityGroups": [security_group], "AssignPublicIp": "DISABLED"}
            },
            "PropagateTags": "TASK_DEFINITION",
        },
        "TimeoutSeconds": job.timeout_minutes * 60,
        "End": True,
    }
    if job.retries:
        state["Retry"] = [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                "MaxAttempts": job.retries,
                "BackoffRate": RETRY_BACKOFF_RATE,
            }
        ]
    return {"Comment": "Runs the job's task to completion", "StartAt": "Run", "States": {"Run": state}}


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


class Job(pulumi.ComponentResource):
    """Outputs: task_family, security_group_id, subnet_ids, capacity (the strategy as run-task
    takes it), task_definition_arn, state_machine_arn (None for a one-off job)."""

    def __init__(self, name: str, args: JobArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # A service that becomes a job of the same key (prod's nightly report batch did) keeps its
        # task: the alias makes the engine move the task, its log group and roles, not replace them.
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=type_token("service", "Service"))])
        super().__init__(type_token("job", "Job"), name, None, pulumi.ResourceOptions.merge(opts, moved))
        self.resource_name, self.args = name, args
        task = Task(name, _task_args(args), pulumi.ResourceOptions(parent=self))
        group = aws.ec2.SecurityGroup(
            autonamed("aws:ec2/securityGroup:SecurityGroup", child(name, "sg")),
            description=f"ECS job {args.environment}/{args.key}: its tasks",
            vpc_id=args.vpc_id,
            tags={**args.tags, "Name": family(args.environment, args.key)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._task, self._egress = task, https_to_aws(name, group.id, args, args.tags, parent=self)
        self.efs_ready = nfs_rules(name, args.key, group.id, args.efs, args.tags, parent=self)
        self.security_group_id = group.id
        self.task_family = family(args.environment, args.key)
        self.task_definition_arn = task.task_definition.arn
        self.execution_role_arn, self.task_role_arn = task.execution_role_arn, task.task_role_arn
        self.subnet_ids = [args.private_subnet_ids[zone] for zone in sorted(args.private_subnet_ids)]
        self.capacity = [
            {"capacityProvider": args.capacity_provider_names[e.provider], "base": e.base, "weight": e.weight}
            for e in args.strategy
        ]
        self.state_machine_arn = self._schedule(name, args, task) if args.job.schedule else None
        self.register_outputs(
            {
                "task_family": self.task_family,
                "security_group_id": self.security_group_id,
                "task_definition_arn": self.task_definition_arn,
                "state_machine_arn": self.state_machine_arn,
            }
        )

    def _schedule(self, name: str, args: JobArgs, task: Task) -> pulumi.Output[str]:
        facts, tags = args.facts, args.tags
        opts = pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(
            autonamed("aws:sqs/queue:Queue", child(name, "dlq")),
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=tags,
            opts=opts,
        )
        roles = [task.execution_role_arn, *([task.task_role_arn] if task.task_role_arn is not None else [])]
        # A fixed name, so the runner role can trust exactly this state machine before it exists.
        machine_name = bounded("aws:sfn/stateMachine:StateMachine", family(args.environment, args.key))
        runner = _role(
            child(name, "runner"), "states.amazonaws.com", f"Step Functions: runs the job {args.key}",
            pulumi.Output.all(args.cluster_arn, args.cluster_name, *roles).apply(
                lambda v: json.dumps(runner_policy(
                    facts=facts, task_family=self.task_family, cluster_arn=v[0], cluster_name=v[1], role_arns=list(v[2:]),
                ))
            ),
            facts, tags, self, state_machine_arn(facts, machine_name),
        )
        definition = pulumi.Output.all(args.cluster_arn, task.task_definition.arn, self.security_group_id, *self.capacity_inputs(), *self.subnet_ids).apply(
            lambda v: json.dumps(state_machine_definition(
                job=args.job, cluster_arn=v[0], task_definition_arn=v[1], security_group=v[2],
                capacity=list(v[3:3 + len(self.capacity)]), subnets=list(v[3 + len(self.capacity):]),
            ), sort_keys=True)
        )
        machine = aws.sfn.StateMachine(
            child(name, "run"),
            name=machine_name,
            role_arn=runner.arn,
            definition=definition,
            tags=tags,
            # EFS mount targets and NFS rules: a run before them fails to mount its volumes.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[runner.inline_policy, *self.efs_ready]),  # type: ignore[attr-defined]
        )
        scheduler = _role(
            child(name, "scheduler"), "scheduler.amazonaws.com", f"EventBridge Scheduler: starts the job {args.key}",
            pulumi.Output.all(machine.arn, queue.arn).apply(lambda v: json.dumps(scheduler_policy(v[0], v[1]))),
            facts, tags, self, schedule_group_arn(facts),
        )
        aws.scheduler.Schedule(
            child(name, "schedule"),
            name=bounded("aws:scheduler/schedule:Schedule", family(args.environment, args.key)),
            description=f"Runs the job {args.environment}/{args.key}",
            schedule_expression=args.job.schedule,
            schedule_expression_timezone=args.job.timezone,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=machine.arn,
                role_arn=scheduler.arn,
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=queue.arn),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler.inline_policy]),  # type: ignore[attr-defined]
        )
        return machine.arn

    def run_before(
        self, services: list[str], *, waits_for: list[pulumi.Resource]
    ) -> Optional[command_local.Command]:
        """`before: [service, ...]` under `deploys: pulumi`: a command that runs the task once
        per new task definition revision (its trigger) during `pulumi up` and fails the update
        unless the job's container exits 0 (jobs/before.py). The services depend on this
        component, so they roll out after it. Called once every rule of the job's group exists
        (`waits_for`: connects_to rules, the cluster's capacity providers).

        First deploy: while the job's ECR repository does not exist, no image can be there, so
        the run is skipped with a warning, as services are (components/service.py)."""
        args = self.args
        missing = repositories_not_yet_created(args.job, args.environment, args.facts)
        if missing:
            pulumi.log.warn(not_run_message(args.key, services, missing), resource=self)
            return None
        providers = [entry["capacityProvider"] for entry in self.capacity]
        script = pulumi.Output.all(args.cluster_name, self.security_group_id, *providers, *self.subnet_ids).apply(
            lambda v: before_script(
                {
                    "cluster_name": v[0],
                    "task_family": self.task_family,
                    "security_group_id": v[1],
                    "capacity": [
                        {**entry, "capacityProvider": provider}
                        for entry, provider in zip(self.capacity, v[2:2 + len(providers)])
                    ],
                    "subnet_ids": list(v[2 + len(providers):]),
                },
                region=args.facts.region, job=args.key, environment=args.environment, services=services,
                timeout_minutes=args.job.timeout_minutes, log_group=log_group_name(args.environment, args.key),
            )
        )
        task = self._task
        return command_local.Command(
            child(self.resource_name, "before"),
            create=script,
            interpreter=INTERPRETER,
            environment={"AWS_PAGER": ""},  # never wait on a pager
            # A new revision (image, command, environment, ...) has a new ARN: the job runs again.
            triggers=[task.task_definition.arn],
            opts=pulumi.ResourceOptions(
                parent=self,
                # The revision, its roles' permissions and every rule of its group exist first:
                # a task started earlier fails (AccessDenied, no route to ECR or its database).
                depends_on=[task.task_definition, *task.inline_policies, *self._egress, *self.efs_ready, *waits_for],
            ),
        )

    def capacity_inputs(self) -> list[pulumi.Output[dict]]:
        """The strategy with its provider names resolved (they may be Outputs)."""
        return [
            pulumi.Output.from_input(entry["capacityProvider"]).apply(
                lambda provider, e=entry: {"CapacityProvider": provider, "Base": e["base"], "Weight": e["weight"]}
            )
            for entry in self.capacity
        ]


def not_run_message(key: str, services: list[str], missing: list[str]) -> str:
    return (
        f"jobs.{key}: not run before {', '.join(services)} in this update: its ECR repository "
        f"{', '.join(missing)} does not exist yet. Push the image tag the job names, then `pulumi up` again runs it "
        "before they roll out (README: Before the first `pulumi up`)."
    )


def _role(
    name: str, service: str, description: str, document: pulumi.Input[str], facts: PlatformFacts,
    tags: dict[str, str], parent: pulumi.Resource, source_arn: str,
) -> aws.iam.Role:
    role = aws.iam.Role(
        autonamed("aws:iam/role:Role", name),
        description=description,
        assume_role_policy=json.dumps(trust_policy(service, facts.account_id, source_arn), separators=(",", ":")),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    role.inline_policy = aws.iam.RolePolicy(  # type: ignore[attr-defined]
        f"{name}-policy", name=bounded("aws:iam/rolePolicy:RolePolicy", f"{name}-policy"), role=role.id, policy=document, opts=pulumi.ResourceOptions(parent=parent)
    )
    return role


def _task_args(args: JobArgs) -> TaskArgs:
    return TaskArgs(
        key=args.key,
        task=args.job,
        environment=args.environment,
        facts=args.facts,
        uses_ec2=args.uses_ec2,
        architecture=args.architecture,
        exec_enabled=args.exec_enabled,
        log_retention_days=args.log_retention_days,
        log_kms_key_arn=args.log_kms_key_arn,
        image=args.image,
        exec_kms_key_arn=args.exec_kms_key_arn,
        exec_log_group_name=args.exec_log_group_name,
        tags=args.tags,
        protect=args.protect,
        sidecar_images=args.sidecar_images,
        efs=args.efs,
    )
