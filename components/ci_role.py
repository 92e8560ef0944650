"""The GitHub Actions deploy role of one environment (`cicd.github`), trusted through OIDC.

An application repository's workflow (`.github/workflows/app-deploy.yml`) assumes it with
GitHub's OIDC token: no long-lived key anywhere. The trust pins the token's audience to STS
and its subject to exactly one repository and branch (or GitHub environment). The role may do
what a deployment needs and nothing else:

- push images to the environment's ECR repositories (and read their scan findings, which the
  workflow waits for before deploying);
- register revisions of the environment's task-definition families and read the latest one
  (DescribeTaskDefinition has no resource-level permission: `*` is its only resource);
- update and describe the environment's ECS services;
- pass exactly those services' execution and task roles, and only to ECS tasks;
- run the one-off jobs the pipeline runs before a deploy (`pipeline_jobs`: no schedule, built
  from a service's repository): register their revisions, `ecs:RunTask` on their families in
  this cluster only, `ecs:DescribeTasks` on the cluster's tasks to wait for them, and pass their
  two roles to ECS tasks.
https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services

An account has one IAM OIDC provider per issuer: the first environment in an account creates it
(`oidc_provider: create`), the others name its ARN. The created provider is retained when its
stack is destroyed, since other environments' roles may trust it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.arns import POLICY_VERSION
from components.facts import PlatformFacts
from components.iam import ECS_TASKS_PRINCIPAL, _allow, render
from components.naming import child, type_token
from configs.model import GITHUB_OIDC_HOST, EnvironmentConfig, GitHubDeploy

GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
# What `docker push` calls (ECR's "pushing an image" permissions, besides the login token).
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
# The workflow waits for the image's scan and fails on CRITICAL findings.
ECR_SCAN_READ_ACTIONS = ("ecr:DescribeImages", "ecr:DescribeImageScanFindings")
SERVICE_DEPLOY_ACTIONS = ("ecs:UpdateService", "ecs:DescribeServices")


def pipeline_jobs(config: EnvironmentConfig) -> dict[str, list[str]]:
    """Service -> the one-off jobs (no schedule) built from the same ECR repository, sorted: the
    jobs app-deploy.yml can run before deploying that service (it renders them with the image
    it just built). Under `deploys: ci` they take the place of `before:`."""
    found: dict[str, list[str]] = {}
    for key in sorted(config.services):
        repository = config.services[key].image.repository
        jobs = [
            job for job in sorted(config.jobs)
            if repository is not None and config.jobs[job].schedule is None and config.jobs[job].image.repository == repository
        ]
        if jobs:
            found[key] = jobs
    return found


@dataclass(frozen=True)
class DeployScope:
    """Everything the role may touch, as plain ARNs and names (tests lint it without Pulumi)."""

    repository_arns: tuple[str, ...]
    task_definition_families: tuple[str, ...]
    service_arns: tuple[str, ...]
    pass_role_arns: tuple[str, ...]
    # One-off jobs the pipeline runs before a deploy (pipeline_jobs): families, roles, cluster.
    job_families: tuple[str, ...] = ()
    job_pass_role_arns: tuple[str, ...] = ()
    cluster_arn: str = ""
    task_arns: str = ""  # `...:task/<cluster>/*`


def github_trust_policy(provider_arn: str, github: GitHubDeploy) -> dict:
    """Only GitHub's tokens for STS, from exactly this repository and branch (or environment)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "GitHubActionsOfOneRepository",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": github.subject,
                    }
                },
            }
        ],
    }


def task_definition_arn_pattern(family: str, facts: PlatformFacts) -> str:
    """Every revision of one family: `...:task-definition/<family>:*`."""
    return f"arn:{facts.partition}:ecs:{facts.region}:{facts.account_id}:task-definition/{family}:*"


def service_arn(cluster_name: str, service: str, facts: PlatformFacts) -> str:
    return f"arn:{facts.partition}:ecs:{facts.region}:{facts.account_id}:service/{cluster_name}/{service}"


def deploy_policy_document(scope: DeployScope) -> dict:
    statements: list[dict[str, Any]] = []
    if scope.repository_arns:
        # A registry-wide login token: no resource-level permission exists, so "*"; what can be
        # pushed is limited by the next statement.
        statements.append(_allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]))
        statements.append(_allow("PushImages", ECR_PUSH_ACTIONS, scope.repository_arns))
        statements.append(_allow("ReadScanFindings", ECR_SCAN_READ_ACTIONS, scope.repository_arns))
    if scope.task_definition_families or scope.job_families:
        families = (*scope.task_definition_families, *scope.job_families)
        statements.append(_allow("RegisterRevisions", ["ecs:RegisterTaskDefinition"], families))
        # DescribeTaskDefinition supports no resource-level permission ("*" only).
        statements.append(_allow("ReadTaskDefinitions", ["ecs:DescribeTaskDefinition"], ["*"]))
    if scope.service_arns:
        statements.append(_allow("DeployServices", SERVICE_DEPLOY_ACTIONS, scope.service_arns))
    if scope.pass_role_arns:
        statement = _allow("PassServiceRolesToEcsTasks", ["iam:PassRole"], scope.pass_role_arns)
        statement["Condition"] = {"StringEquals": {"iam:PassedToService": ECS_TASKS_PRINCIPAL}}
        statements.append(statement)
    if scope.job_families:
        statements += one_off_job_statements(scope)
    return {"Version": POLICY_VERSION, "Statement": statements}


def one_off_job_statements(scope: DeployScope) -> list[dict[str, Any]]:
    """What amazon-ecs-deploy-task-definition's `run-task` with `wait-for-task-stopped` calls:
    RunTask (only in this cluster: the ecs:cluster condition), DescribeTasks until the task
    stopped and for its exit codes, and PassRole of the job's roles (RunTask and the revision's
    registration pass them)."""
    run = _allow("RunOneOffJobs", ["ecs:RunTask"], scope.job_families)
    run["Condition"] = {"ArnEquals": {"ecs:cluster": scope.cluster_arn}}
    passing = _allow("PassJobRolesToEcsTasks", ["iam:PassRole"], scope.job_pass_role_arns)
    passing["Condition"] = {"StringEquals": {"iam:PassedToService": ECS_TASKS_PRINCIPAL}}
    return [run, _allow("WatchOneOffJobs", ["ecs:DescribeTasks"], [scope.task_arns]), passing]


@dataclass(frozen=True)
class CiRoleArgs:
    github: GitHubDeploy
    environment: str
    facts: PlatformFacts
    repository_arns: Sequence[str]
    task_definition_families: Sequence[str]
    cluster_name: pulumi.Input[str]
    service_names: Sequence[str]
    pass_role_arns: Sequence[pulumi.Input[str]]  # every service's execution role and task role
    tags: dict[str, str]
    cluster_arn: pulumi.Input[str] = ""
    job_families: Sequence[str] = ()  # pipeline_jobs' families
    job_pass_role_arns: Sequence[pulumi.Input[str]] = ()  # their execution and task roles


class CiRole(pulumi.ComponentResource):
    """Outputs: role_arn, oidc_provider_arn."""

    def __init__(self, name: str, args: CiRoleArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("ci_role", "CiRole"), name, None, opts)
        facts = args.facts
        provider_arn = self._github_provider_arn(name, args)
        families = tuple(task_definition_arn_pattern(family, facts) for family in args.task_definition_families)
        jobs = tuple(task_definition_arn_pattern(family, facts) for family in args.job_families)
        document = pulumi.Output.all(
            args.cluster_name, list(args.pass_role_arns), args.cluster_arn, list(args.job_pass_role_arns)
        ).apply(
            lambda values: render(
                deploy_policy_document(
                    DeployScope(
                        repository_arns=tuple(args.repository_arns),
                        task_definition_families=families,
                        service_arns=tuple(service_arn(values[0], s, facts) for s in args.service_names),
                        pass_role_arns=tuple(values[1]),
                        job_families=jobs,
                        job_pass_role_arns=tuple(values[3]),
                        cluster_arn=values[2],
                        task_arns=f"arn:{facts.partition}:ecs:{facts.region}:{facts.account_id}:task/{values[0]}/*",
                    )
                )
            )
        )
        role = aws.iam.Role(
            child(name, "role"),
            description=f"GitHub Actions of {args.github.repository} deploy images to {args.environment}",
            assume_role_policy=pulumi.Output.from_input(provider_arn).apply(
                lambda arn: json.dumps(github_trust_policy(arn, args.github), separators=(",", ":"))
            ),
            # A deployment waits for ECS (bake times included); one hour covers a session.
            max_session_duration=3600,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            child(name, "role", "policy"),
            name="deploy",
            role=role.id,
            policy=document,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_arn = role.arn
        self.oidc_provider_arn = provider_arn
        self.register_outputs({"role_arn": self.role_arn, "oidc_provider_arn": self.oidc_provider_arn})

    def _github_provider_arn(self, name: str, args: CiRoleArgs) -> pulumi.Input[str]:
        if args.github.oidc_provider != "create":
            return args.github.oidc_provider
        provider = aws.iam.OpenIdConnectProvider(
            child(name, "github-oidc"),
            url=GITHUB_OIDC_URL,
            client_id_lists=[STS_AUDIENCE],
            # No thumbprints: IAM validates GitHub's certificate against its own trusted CAs.
            tags=args.tags,
            # One provider per account serves every environment there: destroying this stack
            # must not cut the others off.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return provider.arn
