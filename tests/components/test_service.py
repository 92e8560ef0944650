"""components/service.py under mocks: exact container definitions, AWS request shapes (botocore),
ownership of fields (ignore_changes), placement, security-group rules, IAM scope, autoscaling and
the stability of every other service when one is added.

Services are built alone (literal ids for the network, cluster and load balancer) so these tests
do not depend on the other components; the full reference plans are checked at the end.
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import Any, Optional

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest
from botocore.validate import ParamValidator

from components.facts import PlatformFacts
from components.deployment import NativeLoadBalancing
from components.service import Service, ServiceArgs, connect_services
from components.task import container_definition, image_repository_arn, secret_value_from
from configs.model import Connection, EnvironmentConfig, Image
from review.diff import diff_plans
from review.offline import CapturedResource, Plan, mock_id, run_program
from tests.harness import REFERENCE_ENVIRONMENTS, edited, reference_config, reference_plan

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE_COMPONENT = "ecsplatform:service:Service"
TASK_COMPONENT = "ecsplatform:task:Task"
ECS_SERVICE = "aws:ecs/service:Service"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
ALB_SG = "sg-0a1b0a1b0a1b0a1b0"
ENDPOINT_SG = "sg-0e0e0e0e0e0e0e0e0"
S3_PREFIX_LIST = "pl-6da54004"


# --------------------------------------------------------------------------------------------
# Building services alone
# --------------------------------------------------------------------------------------------


def facts_for(config: EnvironmentConfig) -> PlatformFacts:
    region = config.aws.region
    zones = config.network.availability_zones
    names = tuple(sorted(zones)) if isinstance(zones, list) else tuple(f"{region}{l}" for l in "abc"[:zones])
    return PlatformFacts(config.aws.account_id or "123456789012", region, "aws", names, {})


def image_for(config: EnvironmentConfig, key: str) -> str:
    return image_reference(config, config.services[key].image)


def image_reference(config: EnvironmentConfig, image: Image) -> str:
    if image.uri is not None:
        return image.uri
    f = facts_for(config)
    return f"{f.account_id}.dkr.ecr.{f.region}.amazonaws.com/{config.environment}/{image.repository}:{image.tag}"


def service_args(config: EnvironmentConfig, key: str, capacity: pulumi.Resource, **overrides: Any) -> ServiceArgs:
    env, f = config.environment, facts_for(config)
    service = config.services[key]
    exposed = service.expose is not None
    args = ServiceArgs(
        key=key,
        service=service,
        environment=env,
        facts=f,
        strategy=tuple(config.strategy_for(key)),
        uses_ec2=config.uses_ec2(key),
        architecture=config.architecture_for(key),
        deploys=config.deploys,
        exec_enabled=config.cluster.exec.enabled,
        log_retention_days=config.log_retention_for(key),
        log_kms_key_arn=f"arn:aws:kms:{f.region}:{f.account_id}:key/logs" if config.logs.kms else None,
        image=image_for(config, key),
        sidecar_images={name: image_reference(config, sidecar.image) for name, sidecar in service.sidecars.items()},
        cluster_arn=f"arn:aws:ecs:{f.region}:{f.account_id}:cluster/{env}",
        cluster_name=env,
        capacity_provider_names={
            "fargate": "FARGATE",
            "fargate_spot": "FARGATE_SPOT",
            **{name: f"{env}-{name}" for name in config.cluster.capacity.ec2},
        },
        capacity_providers=capacity,
        vpc_id="vpc-0123456789abcdef0",
        private_subnet_ids={zone: f"subnet-{zone}" for zone in reversed(f.zones)},
        load_balancer_security_group_id=ALB_SG if exposed else None,
        target_group_arn=f"arn:aws:elasticloadbalancing:{f.region}:{f.account_id}:targetgroup/{env}-{key}/1"
        if exposed
        else None,
        request_count_label=f"app/{env}/abc/targetgroup/{env}-{key}/def" if exposed else None,
        exec_kms_key_arn=f"arn:aws:kms:{f.region}:{f.account_id}:key/exec" if config.cluster.exec.enabled else None,
        tags={**config.all_tags, "service": key},
        protect=config.protect_resources,
        # A native (canary, ...) deployment shifts between these (the load balancer's, literal here).
        native_load_balancing=NativeLoadBalancing(
            alternate_target_group_arn=f"arn:aws:elasticloadbalancing:{f.region}:{f.account_id}:targetgroup/{env}-{key}-alt/2",
            production_listener_rule_arn=f"arn:aws:elasticloadbalancing:{f.region}:{f.account_id}:listener-rule/app/{env}/1/2/3",
            test_listener_rule_arn=f"arn:aws:elasticloadbalancing:{f.region}:{f.account_id}:listener-rule/app/{env}/1/2/4",
            infrastructure_role_arn=f"arn:aws:iam::{f.account_id}:role/{env}-ecs-infrastructure",
        )
        if exposed and config.services[key].deployment.native
        else None,
    )
    return ServiceArgs(**{**args.__dict__, **overrides})


def capacity_providers(config: EnvironmentConfig) -> pulumi.Resource:
    """Stands in for the cluster's ClusterCapacityProviders (what services must wait for)."""
    return aws.ecs.ClusterCapacityProviders(
        "capacity", cluster_name=config.environment, capacity_providers=["FARGATE", "FARGATE_SPOT"]
    )


def services_plan(config: EnvironmentConfig, **overrides: Any) -> Plan:
    def program(cfg: EnvironmentConfig) -> dict:
        capacity = capacity_providers(cfg)
        services = {
            key: Service(f"{cfg.environment}-{key}", service_args(cfg, key, capacity, **overrides))
            for key in cfg.services
        }
        connect_services(services, dict(cfg.services))
        return {}

    return run_program(config, program=program)


def _as_before_the_task_component(resource: CapturedResource, plan: Plan) -> CapturedResource:
    """The registration the task's children had as the service's own children."""
    if not resource.aliases:
        return resource
    [old_urn] = resource.aliases
    service = plan.named(resource.parent.rsplit("::", 1)[1], SERVICE_COMPONENT)
    return dataclasses.replace(resource, urn=old_urn, parent=service.urn, aliases=())


@lru_cache(maxsize=None)
def reference_services(environment: str) -> Plan:
    return services_plan(reference_config(environment))


def reports_as_a_service(data: dict) -> None:
    """prod's nightly job `reports` as the plain service it once was (no port, no permissions),
    with the on-demand share the production tier requires of a service."""
    job = data["jobs"].pop("reports")
    data["services"]["reports"] = {key: job[key] for key in ("image", "cpu", "memory", "user")}
    data["services"]["reports"]["capacity"] = [{"provider": "fargate", "base": 1, "weight": 1}]


def one(plan: Plan, name: str) -> CapturedResource:
    return plan.named(name)


def containers(plan: Plan, name: str) -> list[dict]:
    return json.loads(one(plan, name).props["containerDefinitions"])


# --------------------------------------------------------------------------------------------
# botocore: the requests AWS would receive
# --------------------------------------------------------------------------------------------

ECS_MODEL = botocore.session.get_session().get_service_model("ecs")


def validate(operation: str, params: dict) -> None:
    report = ParamValidator().validate(params, ECS_MODEL.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def register_task_definition_request(task: CapturedResource) -> dict:
    p = task.props
    request = {
        "family": p["family"],
        "containerDefinitions": json.loads(p["containerDefinitions"]),
        "networkMode": p["networkMode"],
        "requiresCompatibilities": p["requiresCompatibilities"],
        "cpu": p["cpu"],
        "memory": p["memory"],
        "runtimePlatform": {
            "cpuArchitecture": p["runtimePlatform"]["cpuArchitecture"],
            "operatingSystemFamily": p["runtimePlatform"]["operatingSystemFamily"],
        },
        "executionRoleArn": p["executionRoleArn"],
        "volumes": [{"name": v["name"]} for v in p.get("volumes", [])],
        "tags": [{"key": k, "value": v} for k, v in sorted(p["tags"].items())],
    }
    if p.get("taskRoleArn"):
        request["taskRoleArn"] = p["taskRoleArn"]
    return _ints(request)


def create_service_request(service: CapturedResource) -> dict:
    p = service.props
    network = p["networkConfiguration"]
    request = {
        "cluster": p["cluster"],
        "serviceName": p["name"],
        "taskDefinition": p["taskDefinition"],
        "desiredCount": p["desiredCount"],
        "capacityProviderStrategy": [
            {"capacityProvider": s["capacityProvider"], "base": s["base"], "weight": s["weight"]}
            for s in p["capacityProviderStrategies"]
        ],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": network["subnets"],
                "securityGroups": network["securityGroups"],
                "assignPublicIp": "ENABLED" if network["assignPublicIp"] else "DISABLED",
            }
        },
        "deploymentConfiguration": {
            "minimumHealthyPercent": p["deploymentMinimumHealthyPercent"],
            "maximumPercent": p["deploymentMaximumPercent"],
            # Rolling deployments only (ECS refuses it with native strategies).
            **({"deploymentCircuitBreaker": p["deploymentCircuitBreaker"]} if "deploymentCircuitBreaker" in p else {}),
        },
        "propagateTags": p["propagateTags"],
        "enableECSManagedTags": p["enableEcsManagedTags"],
        "enableExecuteCommand": p["enableExecuteCommand"],
        "tags": [{"key": k, "value": v} for k, v in sorted(p["tags"].items())],
    }
    if "loadBalancers" in p:
        request["loadBalancers"] = [
            {"targetGroupArn": lb["targetGroupArn"], "containerName": lb["containerName"], "containerPort": lb["containerPort"]}
            for lb in p["loadBalancers"]
        ]
    if "healthCheckGracePeriodSeconds" in p:
        request["healthCheckGracePeriodSeconds"] = p["healthCheckGracePeriodSeconds"]
    if "serviceConnectConfiguration" in p:
        request["serviceConnectConfiguration"] = service_connect_request(p["serviceConnectConfiguration"])
    return _ints(request)


def service_connect_request(configuration: dict) -> dict:
    """The provider's serviceConnectConfiguration in the API's shape (clientAlias -> clientAliases)."""
    request = {key: configuration[key] for key in ("enabled", "namespace", "logConfiguration") if key in configuration}
    if "services" in configuration:
        request["services"] = [
            {**{k: v for k, v in service.items() if k != "clientAlias"}, "clientAliases": service.get("clientAlias", [])}
            for service in configuration["services"]
        ]
    return request


def _ints(value: Any) -> Any:
    """The mocks return numbers as floats; the API's integers are whole numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_task_definition_is_a_valid_register_task_definition_request(environment):
    plan = reference_services(environment)
    tasks = plan.of_type(TASK_DEFINITION)
    assert [t.name for t in tasks] == sorted(f"{environment}-{k}-task-definition" for k in reference_config(environment).services)
    for task in tasks:
        validate("RegisterTaskDefinition", register_task_definition_request(task))


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_ecs_service_is_a_valid_create_service_request(environment):
    plan = reference_services(environment)
    services = plan.of_type(ECS_SERVICE)
    assert len(services) == len(reference_config(environment).services)
    for service in services:
        validate("CreateService", create_service_request(service))


def test_the_validator_catches_a_wrong_shape():
    """The oracle is not vacuous: a string where ECS wants an integer is reported."""
    request = register_task_definition_request(one(reference_services("dev"), "dev-api-task-definition"))
    request["containerDefinitions"][0]["stopTimeout"] = "30"
    with pytest.raises(AssertionError, match="stopTimeout"):
        validate("RegisterTaskDefinition", request)


# --------------------------------------------------------------------------------------------
# The container definition, exactly
# --------------------------------------------------------------------------------------------


def awslogs(environment: str, key: str) -> dict:
    return {
        "logDriver": "awslogs",
        "options": {"awslogs-group": f"/ecs/{environment}/{key}", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": key},
    }


OTEL_MIRROR = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/ecr-public/aws-observability/aws-otel-collector:v0.40.0"


def test_dev_api_container_definition_exactly():
    """Exec on in dev: init process, and writable paths for the SSM agent on a read-only root.
    The otel sidecar reserves 128/256 of the task's 512/1024; api keeps the rest."""
    assert containers(reference_services("dev"), "dev-api-task-definition") == [
        {
            "name": "api",
            "image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/api:v1.4.2",
            "essential": True,
            "cpu": 384,
            "memory": 768,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp", "name": "api-8080"}],
            "logConfiguration": awslogs("dev", "api"),
            "environment": [{"name": "LOG_LEVEL", "value": "debug"}],
            "secrets": [
                {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:111111111111:parameter/dev/api/key"},
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:dev/db-Xy12Ab:password::",
                },
            ],
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
            "mountPoints": [
                {"sourceVolume": "ssm-agent-state", "containerPath": "/var/lib/amazon/ssm", "readOnly": False},
                {"sourceVolume": "ssm-agent-logs", "containerPath": "/var/log/amazon/ssm", "readOnly": False},
                {"sourceVolume": "ssm-managed-agents", "containerPath": "/managed-agents", "readOnly": False},
            ],
            "stopTimeout": 30,
            "user": "10001",
        },
        {
            "name": "otel",
            "image": OTEL_MIRROR,
            "essential": False,
            "cpu": 128,
            "memory": 256,
            "portMappings": [],
            "logConfiguration": awslogs("dev", "otel") | {"options": {**awslogs("dev", "otel")["options"], "awslogs-group": "/ecs/dev/api"}},
            "environment": [],
            "secrets": [],
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "user": "10001",
            "command": ["--config=/etc/ecs/ecs-default-config.yaml"],
        },
    ]


def test_exec_on_a_read_only_root_gets_empty_task_volumes_for_the_ssm_agent():
    dev = one(reference_services("dev"), "dev-api-task-definition").props
    assert dev["volumes"] == [{"name": "ssm-agent-state"}, {"name": "ssm-agent-logs"}, {"name": "ssm-managed-agents"}]
    assert one(reference_services("staging"), "staging-api-task-definition").props.get("volumes", []) == []


def _exec_mounts(plan: Plan, name: str) -> list[tuple[str, str]]:
    main = containers(plan, name)[0]
    volumes = [v["name"] for v in one(plan, name).props.get("volumes", [])]
    mounts = [(m["sourceVolume"], m["containerPath"]) for m in main.get("mountPoints", [])]
    assert sorted(volumes) == sorted(volume for volume, _ in mounts)  # every volume is mounted, nothing else
    return mounts


def test_exec_mounts_per_capacity_type_never_duplicate_the_ec2_agents_own_mount():
    # prod with exec on: the worker runs on EC2, the api on Fargate.
    plan = services_plan(edited("prod", lambda d: d["cluster"].update(exec={"enabled": True})))
    # On EC2 the ECS agent bind-mounts /var/log/amazon/ssm (and /managed-agents/execute-command)
    # itself: a second mount there would be "Duplicate mount point" and stop every task.
    assert _exec_mounts(plan, "prod-worker-task-definition") == [("ssm-agent-state", "/var/lib/amazon/ssm")]
    assert one(plan, "prod-worker-task-definition").props["requiresCompatibilities"] == ["EC2"]
    # On Fargate nothing is mounted for the agent: its state, its logs and /managed-agents.
    assert _exec_mounts(plan, "prod-api-task-definition") == [
        ("ssm-agent-state", "/var/lib/amazon/ssm"),
        ("ssm-agent-logs", "/var/log/amazon/ssm"),
        ("ssm-managed-agents", "/managed-agents"),
    ]
    for task in plan.of_type(TASK_DEFINITION):
        paths = [m["containerPath"] for c in json.loads(task.props["containerDefinitions"]) for m in c.get("mountPoints", [])]
        assert len(paths) == len(set(paths)), task.name


def test_a_writable_root_gets_no_exec_volumes():
    def edit(data: dict) -> None:
        data["cluster"]["exec"] = {"enabled": True}
        data["services"]["api"]["read_only_root_filesystem"] = False

    plan = services_plan(edited("prod", edit))
    assert _exec_mounts(plan, "prod-api-task-definition") == []


def test_staging_worker_container_definition_exactly():
    """Exec off: no init process, no extra mounts; the container health check from the file."""
    assert containers(reference_services("staging"), "staging-worker-task-definition") == [
        {
            "name": "worker",
            "image": "222222222222.dkr.ecr.eu-west-1.amazonaws.com/staging/worker:v2.0.0",
            "essential": True,
            "portMappings": [{"containerPort": 9000, "protocol": "tcp", "name": "worker-9000"}],
            "logConfiguration": awslogs("staging", "worker"),
            "environment": [],
            "secrets": [],
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "stopTimeout": 30,
            "user": "10001",
            "healthCheck": {
                "command": ["CMD-SHELL", "wget -q -O /dev/null http://localhost:9000/health || exit 1"],
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 60,
            },
        }
    ]


def test_prod_reports_container_definition_exactly():
    """prod's nightly report batch, a scheduled job (jobs.reports) with the task a service has: no
    port, so no port mappings and no load balancer; its own repository in the registry."""
    assert containers(reference_plan("prod"), "prod-reports-task-definition") == [
        {
            "command": ["python", "-m", "reports.nightly"],
            "name": "reports",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod/reports:v0.9.1",
            "essential": True,
            "portMappings": [],
            "logConfiguration": awslogs("prod", "reports"),
            "environment": [],
            "secrets": [],
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "stopTimeout": 30,
            "user": "10001",
        }
    ]


def test_container_options_from_the_file():
    def edit(data):
        api = data["services"]["api"]
        api.update(command=["serve", "--port", "8080"], stop_timeout=90, read_only_root_filesystem=False)
        api["health_check"] = {"command": ["CMD", "/bin/health"], "grace_period": 900, "timeout": 45, "interval": 120}

    config = edited("staging", edit)
    definition = container_definition(
        key="api", task=config.services["api"], image="img:v1", log_group="/ecs/staging/api",
        region="eu-west-1", secrets={}, exec_enabled=True, health_check=config.services["api"].health_check,
    )
    assert definition["command"] == ["serve", "--port", "8080"]
    assert definition["stopTimeout"] == 90
    assert definition["readonlyRootFilesystem"] is False
    assert "mountPoints" not in definition  # a writable root needs no extra paths for exec
    # ECS bounds the start period at 300 s (the model refuses timeouts above 60); the ALB grace stays 900.
    assert definition["healthCheck"] == {"command": ["CMD", "/bin/health"], "interval": 120, "timeout": 45, "retries": 3, "startPeriod": 300}


def test_secret_value_from_and_the_repository_arn():
    config = reference_config("prod")
    f = facts_for(config)
    api = config.services["api"]
    assert secret_value_from(api.secrets["DB_PASSWORD"], f) == (
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf:password::"
    )
    assert secret_value_from(api.secrets["API_KEY"], f) == "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/key"
    assert image_repository_arn(api, "prod", f) == "arn:aws:ecr:eu-west-1:123456789012:repository/prod/api"

    def uri(value):
        return edited("prod", lambda d: d["services"]["api"].update(image={"uri": value})).services["api"]

    own = uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools/api:v1")
    assert image_repository_arn(own, "prod", f) == "arn:aws:ecr:eu-west-1:123456789012:repository/tools/api"
    assert image_repository_arn(uri("public.ecr.aws/nginx/nginx:1.27"), "prod", f) is None
    assert image_repository_arn(uri("999999999999.dkr.ecr.eu-west-1.amazonaws.com/x:v1"), "prod", f) is None


# --------------------------------------------------------------------------------------------
# Task definition and ECS service settings
# --------------------------------------------------------------------------------------------


def test_task_definition_compatibility_platform_and_roles():
    plan = reference_services("prod")
    worker = one(plan, "prod-worker-task-definition").props
    assert worker["family"] == "prod-worker"
    assert worker["requiresCompatibilities"] == ["EC2"]  # the `general` EC2 provider
    assert worker["networkMode"] == "awsvpc"
    assert (worker["cpu"], worker["memory"]) == ("1024", "2048")
    assert worker["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    reports = one(reference_plan("prod"), "prod-reports-task-definition").props  # the nightly job's
    assert reports["requiresCompatibilities"] == ["FARGATE"]
    assert "taskRoleArn" not in reports  # reports declares no permissions: no task role at all
    # The mocks give each role the ARN AWS would (review.offline): the roles of this service.
    assert worker["taskRoleArn"] == "arn:aws:iam::123456789012:role/prod-worker-task"
    assert worker["executionRoleArn"] == "arn:aws:iam::123456789012:role/prod-worker-execution"
    arm = services_plan(edited("staging", lambda d: d["services"]["worker"].update(architecture="arm64", capacity=[{"provider": "fargate"}])))
    assert one(arm, "staging-worker-task-definition").props["runtimePlatform"]["cpuArchitecture"] == "ARM64"


def test_ecs_service_placement_deployment_and_exposure():
    plan = reference_services("prod")
    api = one(plan, "prod-api-service").props
    assert api["name"] == "api"
    assert api["cluster"] == "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
    assert api["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 2.0, "weight": 1.0},
        {"capacityProvider": "FARGATE_SPOT", "base": 0.0, "weight": 1.0},
    ]
    assert api["networkConfiguration"] == {
        "subnets": ["subnet-eu-west-1a", "subnet-eu-west-1b", "subnet-eu-west-1c"],  # by zone
        "securityGroups": [mock_id("aws:ec2/securityGroup:SecurityGroup", "prod-api-sg")],  # its own group
        "assignPublicIp": False,
    }
    # prod's api rolls out as an ECS native canary: no circuit breaker (rolling only), the
    # alternate target group and rules in the load balancer's advanced configuration
    # (tests/components/test_deployment.py covers each strategy).
    assert "deploymentCircuitBreaker" not in api
    assert api["deploymentConfiguration"]["strategy"] == "CANARY"
    assert one(plan, "prod-worker-service").props["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (api["deploymentMinimumHealthyPercent"], api["deploymentMaximumPercent"]) == (100.0, 200.0)
    assert api["healthCheckGracePeriodSeconds"] == 60.0
    assert [{k: v for k, v in lb.items() if k != "advancedConfiguration"} for lb in api["loadBalancers"]] == [
        {
            "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/prod-api/1",
            "containerName": "api",
            "containerPort": 8080.0,
        }
    ]
    assert set(api["loadBalancers"][0]["advancedConfiguration"]) == {"alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn"}
    assert (api["propagateTags"], api["enableEcsManagedTags"], api["waitForSteadyState"]) == ("SERVICE", True, False)
    assert api["enableExecuteCommand"] is False
    worker = one(plan, "prod-worker-service").props
    assert worker["capacityProviderStrategies"] == [{"capacityProvider": "prod-general", "base": 0.0, "weight": 1.0}]
    assert "loadBalancers" not in worker and "healthCheckGracePeriodSeconds" not in worker
    # the nightly report batch runs as a job on Fargate Spot (a failed run is retried)
    assert reference_plan("prod").outputs["jobs"]["reports"]["capacity"] == [{"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 1}]
    assert one(reference_services("dev"), "dev-api-service").props["enableExecuteCommand"] is True


def test_an_arm64_service_runs_on_fargate_spot():
    # FARGATE_SPOT supports ARM64 on platform version 1.4.0+ (the LATEST the service uses).
    config = edited("staging", lambda d: d["services"]["worker"].update(architecture="arm64", capacity=[{"provider": "fargate_spot", "weight": 1}]))
    plan = services_plan(config)
    assert one(plan, "staging-worker-task-definition").props["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    service = one(plan, "staging-worker-service").props
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "base": 0.0, "weight": 1.0}]
    assert "platformVersion" not in service  # LATEST


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_no_task_gets_a_public_ip(environment):
    for service in reference_services(environment).of_type(ECS_SERVICE):
        assert service.props["networkConfiguration"]["assignPublicIp"] is False


@pytest.mark.parametrize(
    "environment, ignored",
    [("dev", ("desiredCount",)), ("staging", ("desiredCount", "taskDefinition")), ("prod", ("desiredCount", "taskDefinition"))],
)
def test_the_service_ignores_what_ci_and_autoscaling_own(environment, ignored):
    plan = reference_services(environment)
    for service in plan.of_type(ECS_SERVICE):
        assert service.ignore_changes == ignored, service.name
        assert service.delete_before_replace is True  # a fixed name cannot coexist with its replacement
        # Capacity providers are attached before any strategy names them.
        assert one(plan, "capacity").urn in service.depends_on


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_service_forces_a_new_deployment_so_a_capacity_strategy_change_applies(environment):
    for service in reference_services(environment).of_type(ECS_SERVICE):
        assert service.props["forceNewDeployment"] is True, service.name
        # No triggers: the service redeploys when it changes, not on every `pulumi up`.
        assert "triggers" not in service.props


@pytest.mark.parametrize(
    "deploys, wait, waits, timeouts",
    [
        ("pulumi", None, True, (("create", "30m"), ("update", "30m"))),
        ("pulumi", False, False, ()),
        ("ci", None, False, ()),  # the pipeline's deploy step waits for its own rollouts
        ("ci", True, True, (("create", "45m"), ("update", "45m"))),
    ],
)
def test_pulumi_up_waits_for_a_steady_state_unless_told_not_to(deploys, wait, waits, timeouts):
    def edit(data: dict) -> None:
        data["deploys"] = deploys
        if deploys == "ci":  # dev's before: job is for deploys: pulumi only
            data.pop("jobs", None)
        deployment = data["services"]["api"].setdefault("deployment", {})
        if wait is not None:
            deployment["wait"] = wait
        if wait is True:
            deployment["timeout_minutes"] = 45

    plan = services_plan(edited("dev", edit))
    api = one(plan, "dev-api-service")
    assert api.props["waitForSteadyState"] is waits
    assert api.custom_timeouts == timeouts


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_service_waits_for_both_role_policies_not_only_the_roles(environment):
    plan = reference_services(environment)
    config = reference_config(environment)
    for key in config.services:
        service = one(plan, f"{environment}-{key}-service")
        policies = {r.name for r in plan.of_type(ROLE_POLICY) if r.urn in service.depends_on}
        expected = {f"{environment}-{key}-execution-policy"}
        if config.services[key].has_task_role or config.cluster.exec.enabled:
            expected.add(f"{environment}-{key}-task-policy")
        assert policies == expected, key


def test_log_group_name_retention_key_and_protection():
    prod = one(reference_services("prod"), "prod-api-logs")
    assert prod.props["name"] == "/ecs/prod/api"
    assert prod.props["retentionInDays"] == 90.0
    assert prod.props["kmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/logs"
    assert prod.protect is True
    dev = one(reference_services("dev"), "dev-api-logs")
    assert (dev.props["retentionInDays"], dev.protect, "kmsKeyId" in dev.props) == (7.0, False, False)


def test_outputs_of_the_component():
    seen: dict[str, Any] = {}

    def program(cfg):
        capacity = capacity_providers(cfg)
        services = {k: Service(f"prod-{k}", service_args(cfg, k, capacity)) for k in ("api", "reports")}
        for key, svc in services.items():
            seen[key] = svc
        return {
            key: {
                "service_name": svc.service_name,
                "security_group_id": svc.security_group_id,
                "task_definition_arn": svc.task_definition_arn,
                "execution_role_arn": svc.execution_role_arn,
                "task_role_arn": svc.task_role_arn,
                "log_group_name": svc.log_group_name,
            }
            for key, svc in services.items()
        }

    plan = run_program(edited("prod", reports_as_a_service), program=program)
    role = "arn:aws:iam::123456789012:role/prod-{}"
    assert plan.outputs["api"] == {
        "service_name": "api",
        "security_group_id": mock_id("aws:ec2/securityGroup:SecurityGroup", "prod-api-sg"),
        "task_definition_arn": "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/prod-api-task-definition",
        "execution_role_arn": role.format("api-execution"),
        "task_role_arn": role.format("api-task"),
        "log_group_name": "/ecs/prod/api",
    }
    assert plan.outputs["reports"]["task_role_arn"] is None  # no permissions declared: no task role
    assert plan.outputs["reports"]["execution_role_arn"] == role.format("reports-execution")


# --------------------------------------------------------------------------------------------
# Security-group rules, exactly as declared
# --------------------------------------------------------------------------------------------


def rules(plan: Plan) -> set[tuple]:
    """Every rule as (type, logical name, group, peer, port), peers by their logical name."""
    groups = {r.urn: r.name for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup")}
    by_id = {}
    for group in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        by_id[_group_id(plan, group)] = group.name
    found = set()
    for kind, type_ in (("in", INGRESS), ("out", EGRESS)):
        for rule in plan.of_type(type_):
            p = rule.props
            peer = p.get("referencedSecurityGroupId") or p.get("cidrIpv4") or p.get("prefixListId")
            assert p["ipProtocol"] == "tcp" and p["fromPort"] == p["toPort"] and p["description"], rule.name
            found.add((kind, rule.name, by_id.get(p["securityGroupId"], p["securityGroupId"]), by_id.get(peer, peer), int(p["fromPort"])))
    assert groups  # noqa: the groups exist
    return found


def _group_id(plan: Plan, group: CapturedResource) -> str:
    from review.offline import _short_hash  # the mocks' deterministic id for a security group

    return f"sg-{_short_hash(group.name)}"


def test_security_groups_have_no_inline_rules():
    for group in reference_services("prod").of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert "ingress" not in group.props and "egress" not in group.props
        assert group.props["vpcId"] == "vpc-0123456789abcdef0"


def test_prod_rules_exactly():
    assert rules(reference_services("prod")) == {
        # The ALB reaches the api on its port (its own egress is load_balancer.py's).
        ("in", "prod-api-from-alb-8080", "prod-api-sg", ALB_SG, 8080),
        # api -> worker: both sides; api -> the database's network (outside the VPC): our side only.
        ("out", "prod-api-to-worker-9000-egress", "prod-api-sg", "prod-worker-sg", 9000),
        ("in", "prod-api-to-worker-9000-ingress", "prod-worker-sg", "prod-api-sg", 9000),
        ("out", "prod-api-to-10-130-0-0-24-5432-egress", "prod-api-sg", "10.130.0.0/24", 5432),
        # HTTPS out to AWS through the NAT gateways.
        ("out", "prod-api-https-out", "prod-api-sg", "0.0.0.0/0", 443),
        ("out", "prod-worker-https-out", "prod-worker-sg", "0.0.0.0/0", 443),
    }
    # the nightly report job's group: HTTPS out only, as a service's
    assert ("out", "prod-reports-https-out", "prod-reports-sg", "0.0.0.0/0", 443) in rules(reference_plan("prod"))


def test_connection_rules_are_children_of_the_source_service():
    plan = reference_services("staging")
    api = plan.named("staging-api", SERVICE_COMPONENT)
    for name in ("staging-api-to-worker-9000-egress", "staging-api-to-worker-9000-ingress", "staging-api-to-10-120-0-0-24-5432-egress"):
        assert one(plan, name).parent == api.urn


def test_outside_targets_get_one_described_egress_rule_on_the_services_own_group_and_no_group_reference():
    def edit(data: dict) -> None:
        data["services"]["api"]["connects_to"] = [
            {"cidr": "10.130.0.0/24", "port": 5432},
            {"prefix_list": "pl-0123456789abcdef0", "port": 443},
        ]

    plan = services_plan(edited("prod", edit))
    outside = {
        r.name: r.props for r in plan.of_type(EGRESS) + plan.of_type(INGRESS) if "-to-" in r.name
    }
    api_group = _group_id(plan, one(plan, "prod-api-sg"))
    assert {name: (p["securityGroupId"], p.get("cidrIpv4"), p.get("prefixListId"), p.get("referencedSecurityGroupId"),
                   p["fromPort"], p["toPort"], p["description"]) for name, p in outside.items()} == {
        "prod-api-to-10-130-0-0-24-5432-egress": (
            api_group, "10.130.0.0/24", None, None, 5432, 5432, "api connects to network 10.130.0.0/24 on 5432"
        ),
        "prod-api-to-pl-0123456789abcdef0-443-egress": (
            api_group, None, "pl-0123456789abcdef0", None, 443, 443, "api connects to prefix list pl-0123456789abcdef0 on 443"
        ),
    }


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_no_rule_references_a_group_the_stack_does_not_create(environment):
    plan = reference_services(environment)
    own = {_group_id(plan, group) for group in plan.of_type("aws:ec2/securityGroup:SecurityGroup")} | {ALB_SG, ENDPOINT_SG}
    referenced = {r.props.get("referencedSecurityGroupId") for r in plan.of_type(EGRESS) + plan.of_type(INGRESS)}
    assert referenced - {None} <= own


def test_a_security_group_target_is_refused_by_the_component_too():
    config = edited("prod", lambda d: None)
    api = config.services["api"]
    foreign = api.model_copy(update={"connects_to": [Connection(security_group="sg-0123456789abcdef0", port=5432)]})
    with pytest.raises(ValueError, match=r"^services.api.connects_to: sg-0123456789abcdef0 is not created by this stack; use cidr: or prefix_list:$"):
        services_plan(config.model_copy(update={"services": {**config.services, "api": foreign}}))


def test_without_nat_egress_is_only_to_the_endpoints():
    plan = services_plan(reference_config("dev"), aws_egress="endpoints", endpoint_security_group_id=ENDPOINT_SG, s3_prefix_list_id=S3_PREFIX_LIST)
    out = {r for r in rules(plan) if r[0] == "out" and r[2] == "dev-worker-sg"}
    assert out == {
        ("out", "dev-worker-https-to-endpoints", "dev-worker-sg", ENDPOINT_SG, 443),
        ("out", "dev-worker-https-to-s3", "dev-worker-sg", S3_PREFIX_LIST, 443),
    }
    assert not [r for r in plan.of_type(EGRESS) if r.props.get("cidrIpv4") == "0.0.0.0/0"]


def test_endpoint_egress_without_the_ids_is_refused():
    with pytest.raises(Exception, match="endpoint security group"):
        services_plan(reference_config("dev"), aws_egress="endpoints")


@pytest.mark.parametrize(
    ("key", "overrides", "message"),
    [
        pytest.param(
            "api", {"target_group_arn": None}, "services.api: an exposed service needs a port and a target group",
            id="exposed-without-target-group",
        ),
        pytest.param(
            "api", {"request_count_label": None},
            "services.api.autoscaling.requests_per_target needs the service to be exposed on the ALB",
            id="requests-per-target-without-label",
        ),
        pytest.param(
            "worker", {"aws_egress": "endpoints"},
            "services.worker: aws_egress 'endpoints' needs the endpoint security group and the S3 prefix list",
            id="endpoints-without-ids",
        ),
    ],
)
def test_a_refused_service_registers_nothing(key, overrides, message):
    config = reference_config("prod")
    refused: list[str] = []

    def program(cfg: EnvironmentConfig) -> dict:
        capacity = capacity_providers(cfg)
        try:
            Service(f"{cfg.environment}-{key}", service_args(cfg, key, capacity, **overrides))
        except ValueError as error:
            refused.append(str(error))
        return {}

    plan = run_program(config, program=program)
    assert refused == [message]
    # Only the stand-in for the cluster's capacity providers: no component, no child.
    assert [resource.name for resource in plan.resources] == ["capacity"]


# --------------------------------------------------------------------------------------------
# IAM: the execution role's resources are exactly the service's own
# --------------------------------------------------------------------------------------------


def policy_of(plan: Plan, name: str) -> dict:
    return json.loads(one(plan, name).props["policy"])


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def resources_of(document: dict) -> set[str]:
    found = set()
    for statement in document["Statement"]:
        resource = statement["Resource"]
        found.update([resource] if isinstance(resource, str) else resource)
    return found


def test_execution_role_resources_are_exactly_the_services_own():
    plan = reference_services("prod")
    assert resources_of(policy_of(plan, "prod-api-execution-policy")) == {
        "arn:aws:ecr:eu-west-1:123456789012:repository/prod/api",
        "*",  # ecr:GetAuthorizationToken only (no resource-level permission exists)
        "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/api",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/api:log-stream:*",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/key",
        "arn:aws:kms:eu-west-1:123456789012:key/4d1f6c2e-8a3b-4c5d-9e7f-1a2b3c4d5e6f",  # the secret's key
    }
    stars = [s for s in policy_of(plan, "prod-api-execution-policy")["Statement"] if "*" in _listed(s["Resource"])]
    assert [_listed(s["Action"]) for s in stars] == [["ecr:GetAuthorizationToken"]]
    assert resources_of(policy_of(reference_plan("prod"), "prod-reports-execution-policy")) == {  # the nightly job's
        "arn:aws:ecr:eu-west-1:123456789012:repository/prod/reports",
        "*",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/reports",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/reports:log-stream:*",
    }


def test_every_role_is_a_child_of_its_services_task_and_every_policy_is_attached_to_its_role():
    plan = reference_services("staging")
    for key in ("api", "worker"):
        service = plan.named(f"staging-{key}", SERVICE_COMPONENT)
        task = plan.named(f"staging-{key}", TASK_COMPONENT)
        assert task.parent == service.urn
        for role in ("execution", "task"):
            assert one(plan, f"staging-{key}-{role}").parent == task.urn
            assert one(plan, f"staging-{key}-{role}-policy").props["role"] == f"staging-{key}-{role}-id"


def test_the_task_component_moves_its_children_from_the_service_with_aliases():
    """Before components/task.py these were the service's own children: each carries an alias
    to its old URN, so `pulumi up` moves them without replacing anything."""
    plan = reference_services("staging")
    service = plan.named("staging-api", SERVICE_COMPONENT)
    task = plan.named("staging-api", TASK_COMPONENT)
    children = plan.children_of(task)
    assert [(r.type, r.name) for r in children] == [
        ("aws:cloudwatch/logGroup:LogGroup", "staging-api-logs"),
        (TASK_DEFINITION, "staging-api-task-definition"),
        ("aws:iam/role:Role", "staging-api-execution"),
        ("aws:iam/role:Role", "staging-api-task"),
        (ROLE_POLICY, "staging-api-execution-policy"),
        (ROLE_POLICY, "staging-api-task-policy"),
    ]
    for resource in children:
        # The mocks' URNs carry the parent's own type only (the engine's carry the whole chain).
        assert resource.aliases == (f"urn:pulumi:staging::ecs-platform::{SERVICE_COMPONENT}${resource.type}::{resource.name}",)
    assert task.aliases == ()


def test_a_plan_from_before_the_task_component_diffs_as_unchanged():
    """The review's diff matches each moved child with its old registration through its alias."""
    head = reference_services("staging")
    base = Plan(head.environment, [_as_before_the_task_component(r, head) for r in head.resources if r.type != TASK_COMPONENT])
    assert diff_plans(base, head).changes == ()


def test_exec_puts_the_session_channel_on_the_task_role_only():
    plan = reference_services("dev")
    task = policy_of(plan, "dev-worker-task-policy")  # exec alone gives worker a task role
    assert any("ssmmessages:CreateDataChannel" in s["Action"] for s in task["Statement"])
    assert "ssmmessages" not in json.dumps(policy_of(plan, "dev-worker-execution-policy"))


# --------------------------------------------------------------------------------------------
# Autoscaling
# --------------------------------------------------------------------------------------------


def test_autoscaling_target_and_one_policy_per_metric():
    plan = reference_services("staging")
    target = one(plan, "staging-api-scaling").props
    assert (target["serviceNamespace"], target["scalableDimension"]) == ("ecs", "ecs:service:DesiredCount")
    assert target["resourceId"] == "service/staging/api"
    assert (target["minCapacity"], target["maxCapacity"]) == (2.0, 6.0)
    policies = {
        p.name: (
            p.props["name"],
            p.props["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"],
            p.props["targetTrackingScalingPolicyConfiguration"]["targetValue"],
            p.props["resourceId"],
        )
        for p in plan.of_type(SCALING_POLICY)
        if p.name != "staging-worker-scale-queue"  # metric math: tests/components/test_scaling.py
    }
    assert policies == {
        "staging-api-scale-cpu": ("staging-api-cpu", {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}, 60.0, "service/staging/api"),
        "staging-api-scale-requests": (
            "staging-api-requests",
            {"predefinedMetricType": "ALBRequestCountPerTarget", "resourceLabel": "app/staging/abc/targetgroup/staging-api/def"},
            1000.0,
            "service/staging/api",
        ),
        "staging-worker-scale-cpu": ("staging-worker-cpu", {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}, 70.0, "service/staging/worker"),
        "staging-worker-scale-memory": (
            "staging-worker-memory",
            {"predefinedMetricType": "ECSServiceAverageMemoryUtilization"},
            80.0,
            "service/staging/worker",
        ),
    }
    for policy in plan.of_type(SCALING_POLICY):
        assert policy.props["policyType"] == "TargetTrackingScaling"


def test_no_autoscaling_without_configuration():
    plan = reference_services("dev")
    assert plan.of_type(SCALING_TARGET) == [] and plan.of_type(SCALING_POLICY) == []


# --------------------------------------------------------------------------------------------
# Stability: adding a service touches no other service
# --------------------------------------------------------------------------------------------


def snapshot(plan: Plan) -> dict[tuple[str, str], dict]:
    return {(r.type, r.name): {"props": r.props, "parent": r.parent, "options": (r.protect, r.ignore_changes)} for r in plan.resources}


def test_adding_a_service_leaves_every_other_resource_unchanged():
    def add(data):
        data["services"]["billing"] = {
            "image": {"uri": "public.ecr.aws/acme/billing:v3"},
            "user": "10001",
            "cpu": 256,
            "memory": 512,
            "port": 7000,
            "connects_to": [{"service": "worker", "port": 9000}],
        }

    before = snapshot(reference_services("prod"))
    after = snapshot(services_plan(edited("prod", add)))
    assert {k: v for k, v in after.items() if k in before} == before
    added = sorted(name for (_, name) in after.keys() - before.keys())
    assert all(name.startswith("prod-billing") for name in added), added
    # billing's connection lives under billing, including the ingress on worker's group.
    assert "prod-billing-to-worker-9000-ingress" in added


# --------------------------------------------------------------------------------------------
# The whole environment, once the other components exist
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_reference_environment_services_are_valid_requests(environment):
    plan = reference_plan(environment)
    config = reference_config(environment)
    tasks, services = plan.of_type(TASK_DEFINITION), plan.of_type(ECS_SERVICE)
    assert len(tasks) - len(config.jobs) == len(services) == len(config.services)
    for task in tasks:
        validate("RegisterTaskDefinition", register_task_definition_request(task))
    (attachment,) = plan.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    for service in services:
        validate("CreateService", create_service_request(service))
        assert service.props["networkConfiguration"]["assignPublicIp"] is False
        assert attachment.urn in service.depends_on
    for key in [*config.services, *config.jobs]:
        own_group = f"arn:aws:logs:{config.aws.region}:{config.aws.account_id}:log-group:/ecs/{environment}/{key}"
        logs = {r for r in resources_of(policy_of(plan, f"{environment}-{key}-execution-policy")) if ":logs:" in r}
        assert logs == {own_group, f"{own_group}:log-stream:*"}


def test_an_exposed_service_waits_for_its_listener_rule_and_the_capacity_providers():
    # ECS refuses a target group no listener routes to yet; providers must be attached first.
    plan = reference_plan("prod")
    api = plan.named("prod-api-service", "aws:ecs/service:Service")
    assert plan.named("prod-alb-rule-api", "aws:lb/listenerRule:ListenerRule").urn in api.depends_on
    assert plan.named("prod-cluster-providers").urn in api.depends_on
    worker = plan.named("prod-worker-service", "aws:ecs/service:Service")
    assert not [urn for urn in worker.depends_on if "ListenerRule" in urn]


# --------------------------------------------------------------------------------------------
# First deploy: repositories that do not exist yet
# --------------------------------------------------------------------------------------------


def test_on_an_empty_account_services_wait_for_their_repositories_and_everything_else_is_created(caplog):
    with caplog.at_level("WARNING"):
        first = run_program(reference_config("prod"), empty_account=True)
    second = reference_plan("prod")  # the repositories exist: the usual plan
    # Every service's image comes from the stack's registry, so no ECS service (nor its
    # autoscaling) is created; the repositories, task definitions, roles, groups and rules are.
    assert first.of_type(ECS_SERVICE) == [] and first.of_type(SCALING_TARGET) == [] and first.of_type(SCALING_POLICY) == []
    assert [r.name for r in second.of_type(ECS_SERVICE)] == ["prod-api-service", "prod-worker-service"]
    deferred = {ECS_SERVICE, SCALING_TARGET, SCALING_POLICY}
    assert sorted(r.name for r in first.resources) == sorted(r.name for r in second.resources if r.type not in deferred)
    assert len(first.of_type("aws:ecr/repository:Repository")) == 3
    assert len(first.of_type(TASK_DEFINITION)) == 3  # api's, worker's and the nightly reports job's
    messages = sorted(record.getMessage() for record in caplog.records if "is not created in this update" in record.getMessage())
    assert messages == [
        f"services.{key}: the ECS service is not created in this update: its ECR repository prod/{key} does not exist "
        "yet. Everything else is created now; push the image tags the service names, then run `pulumi up` again to "
        "create it (README: Before the first `pulumi up`)."
        for key in ("api", "worker")
    ]


def test_a_service_whose_image_is_not_in_the_stacks_registry_is_created_on_an_empty_account():
    config = edited("staging", lambda d: d["services"]["worker"].update(image={"uri": "public.ecr.aws/nginx/nginx:1.27"}))
    plan = run_program(config, empty_account=True)
    assert [r.name for r in plan.of_type(ECS_SERVICE)] == ["staging-worker-service"]
