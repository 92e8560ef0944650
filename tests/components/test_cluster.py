"""components/cluster.py: the ECS cluster, exec, and Fargate / Fargate Spot / EC2 capacity providers.

The cluster is built alone under the offline mocks, with literal subnet ids and facts, and every
assertion is on the exact inputs the engine receives (camelCase wire names, numbers as floats).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Optional

import pytest

from components.cluster import Cluster, ClusterArgs, instance_trust_policy, provider_strategy, user_data
from components.facts import PlatformFacts
from configs.instance_types import ECS_AMI_PARAMETERS, ECS_GPU_AMI_PARAMETERS
from configs.model import Cluster as ClusterConfig
from configs.model import StrategyEntry
from configs.strategy import strategy_problems
from review.offline import Plan, PlatformMocks, run_program
from tests.harness import REFERENCE_ENVIRONMENTS, reference_config

ACCOUNT = "123456789012"
X86_AMI, ARM_AMI, GPU_AMI = (ECS_AMI_PARAMETERS["x86_64"], ECS_AMI_PARAMETERS["arm64"], ECS_GPU_AMI_PARAMETERS["x86_64"])
AMIS = {X86_AMI: "ami-0x86x86x86x86x86", ARM_AMI: "ami-0arm64arm64arm64", GPU_AMI: "ami-0gpu0gpu0gpu0gpu"}
SUBNETS = {"eu-west-1b": "subnet-b", "eu-west-1a": "subnet-a", "eu-west-1c": "subnet-c"}
LOG_KEY = "arn:aws:kms:eu-west-1:123456789012:key/env-logs"
TAGS = {"env": "prod", "team": "platform"}

CLUSTER = "aws:ecs/cluster:Cluster"
PROVIDERS = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

GENERAL = {
    "instance_types": ["m6i.large", "m5.large"],
    "min_size": 1,
    "max_size": 10,
    "on_demand_base": 1,
    "on_demand_percent_above_base": 25,
    "target_capacity": 90,
}
GRAVITON = {"instance_types": ["m7g.large"], "architecture": "arm64", "max_size": 4, "root_volume_gb": 60}


def cluster_config(**fields: Any) -> ClusterConfig:
    """A cluster section as the model holds it (cross-field rules are the component's to check)."""
    return ClusterConfig.model_validate(fields)


def build(
    config: ClusterConfig,
    *,
    environment: str = "prod",
    log_key: Optional[str] = None,
    protect: bool = True,
    tags: Optional[dict[str, str]] = None,
    retention: int = 90,
):
    """A program that builds only the cluster, as environment.py wires it, with literal subnets."""

    def program(_cfg) -> dict:
        facts = PlatformFacts(ACCOUNT, "eu-west-1", "aws", tuple(sorted(SUBNETS)), dict(AMIS))
        cluster = Cluster(
            f"{environment}-cluster",
            ClusterArgs(
                cluster=config,
                environment=environment,
                facts=facts,
                vpc_id="vpc-123",
                private_subnet_ids=dict(SUBNETS),
                exec_log_retention_days=retention,
                log_kms_key_arn=log_key,
                tags=dict(TAGS if tags is None else tags),
                protect=protect,
            ),
        )
        return {
            "cluster_name": cluster.cluster_name,
            "cluster_arn": cluster.cluster_arn,
            "capacity_provider_names": cluster.capacity_provider_names,
            "instance_security_group_id": cluster.instance_security_group_id,
            "exec_kms_key_arn": cluster.exec_kms_key_arn,
            "exec_log_group_name": cluster.exec_log_group_name,
            "providers_urn": cluster.capacity_providers.urn,
        }

    return program


def plan_cluster(config: ClusterConfig, **kwargs: Any) -> Plan:
    return run_program(reference_config("prod"), program=build(config, **kwargs))


FARGATE_DEFAULT = [{"provider": "fargate", "base": 2, "weight": 1}, {"provider": "fargate_spot", "weight": 3}]


def with_ec2(ec2: dict) -> ClusterConfig:
    """Fargate, Fargate Spot and the given EC2 providers, with a Fargate default strategy."""
    capacity = {"fargate": True, "fargate_spot": True, "ec2": ec2}
    return cluster_config(capacity=capacity, default_strategy=FARGATE_DEFAULT, container_insights="enhanced")


ALL_THREE = with_ec2({"general": GENERAL, "graviton": GRAVITON})


@pytest.fixture(scope="module")
def all_three() -> Plan:
    return plan_cluster(ALL_THREE)


# ---- capacity providers attached ------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "default", "attached", "names"),
    [
        pytest.param(
            {"fargate": True, "fargate_spot": False},
            [{"provider": "fargate"}],
            ["FARGATE"],
            {"fargate": "FARGATE"},
            id="fargate-only",
        ),
        pytest.param(
            {"fargate": False, "fargate_spot": True},
            [{"provider": "fargate_spot"}],
            ["FARGATE_SPOT"],
            {"fargate_spot": "FARGATE_SPOT"},
            id="spot-only",
        ),
        pytest.param(
            {"fargate": False, "fargate_spot": False, "ec2": {"general": GENERAL}},
            [{"provider": "general"}],
            ["general-prod-cluster"],
            {"general": "general-prod-cluster"},
            id="ec2-only",
        ),
        pytest.param(
            {"fargate": True, "fargate_spot": True, "ec2": {"general": GENERAL}},
            [{"provider": "fargate", "base": 1}, {"provider": "fargate_spot", "weight": 4}],
            ["FARGATE", "FARGATE_SPOT", "general-prod-cluster"],
            {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT", "general": "general-prod-cluster"},
            id="all-three",
        ),
    ],
)
def test_attaches_exactly_the_declared_providers(capacity, default, attached, names):
    plan = plan_cluster(cluster_config(capacity=capacity, default_strategy=default))

    [providers] = plan.of_type(PROVIDERS)
    assert providers.name == "prod-cluster-providers"
    assert providers.props["clusterName"] == "prod-cluster"
    assert providers.props["capacityProviders"] == attached
    assert plan.outputs["capacity_provider_names"] == names
    assert [r.name for r in plan.of_type(CAPACITY_PROVIDER)] == [
        f"prod-cluster-{key}-capacity-provider" for key in capacity.get("ec2", {})
    ]
    # Services depend on this resource, so it must wait for every EC2 provider it attaches.
    provider_urns = {r.urn for r in plan.of_type(CAPACITY_PROVIDER)}
    assert provider_urns <= set(providers.depends_on)
    assert plan.outputs["providers_urn"] == providers.urn


def test_without_ec2_there_is_no_instance_infrastructure():
    plan = plan_cluster(cluster_config(capacity={"fargate": True, "fargate_spot": True}))

    assert plan.count_by_type() == {CLUSTER: 1, PROVIDERS: 1}
    assert plan.outputs["instance_security_group_id"] is None


def test_the_default_strategy_maps_keys_to_provider_names():
    plan = plan_cluster(
        cluster_config(
            capacity={"fargate": False, "fargate_spot": False, "ec2": {"general": GENERAL, "batch": GENERAL}},
            default_strategy=[{"provider": "general", "base": 1, "weight": 3}, {"provider": "batch", "weight": 1}],
        )
    )

    [providers] = plan.of_type(PROVIDERS)
    assert providers.props["capacityProviders"] == ["batch-prod-cluster", "general-prod-cluster"]
    assert providers.props["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "general-prod-cluster", "base": 1.0, "weight": 3.0},
        {"capacityProvider": "batch-prod-cluster", "base": 0.0, "weight": 1.0},
    ]


def test_the_fargate_default_strategy(all_three):
    [providers] = all_three.of_type(PROVIDERS)
    assert providers.props["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 2.0, "weight": 1.0},
        {"capacityProvider": "FARGATE_SPOT", "base": 0.0, "weight": 3.0},
    ]


def test_provider_strategy_is_pure():
    entries = [StrategyEntry(provider="fargate", base=1, weight=1), StrategyEntry(provider="general", weight=2)]
    assert provider_strategy(entries, {"fargate": "FARGATE", "general": "general-x"}) == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "general-x", "base": 0, "weight": 2},
    ]


# ---- the cluster ----------------------------------------------------------------------------


@pytest.mark.parametrize("insights", ["enabled", "enhanced", "disabled"])
def test_container_insights_as_configured(insights):
    plan = plan_cluster(cluster_config(container_insights=insights))

    [cluster] = plan.of_type(CLUSTER)
    assert cluster.name == "prod-cluster"
    assert cluster.props["name"] == "prod-cluster"
    assert cluster.props["settings"] == [{"name": "containerInsights", "value": insights}]
    assert cluster.props["tags"] == TAGS


def test_every_child_is_parented_to_the_component(all_three):
    [component] = [r for r in all_three.resources if r.type == "ecsplatform:cluster:Cluster"]
    assert component.name == "prod-cluster"
    assert {r.urn for r in all_three.resources if r.custom} == {r.urn for r in all_three.children_of(component)}


def test_the_cluster_invokes_nothing(monkeypatch):
    """Facts (the AMIs above all) are looked up once per stack, never by the component."""

    def refuse(self, args):
        raise AssertionError(f"the cluster invoked {args.token}")

    monkeypatch.setattr(PlatformMocks, "call", refuse)
    plan = plan_cluster(ALL_THREE)
    assert len(plan.of_type(CAPACITY_PROVIDER)) == 2


# ---- ECS Exec -------------------------------------------------------------------------------


def test_exec_off_creates_no_key_no_log_group_and_no_configuration(all_three):
    assert all_three.of_type(KEY) == all_three.of_type(LOG_GROUP) == all_three.of_type(ALIAS) == []
    [cluster] = all_three.of_type(CLUSTER)
    assert "configuration" not in cluster.props
    assert all_three.outputs["exec_kms_key_arn"] is None
    assert all_three.outputs["exec_log_group_name"] is None


@pytest.mark.parametrize(
    ("log_key", "group_key"),
    [
        pytest.param(LOG_KEY, LOG_KEY, id="with-the-environment-log-key"),
        pytest.param(None, "arn:aws:kms:eu-west-1:123456789012:key/prod-cluster-exec-key", id="with-its-own-key"),
    ],
)
def test_exec_on_logs_to_an_encrypted_group_with_retention(log_key, group_key):
    plan = plan_cluster(cluster_config(exec={"enabled": True}), log_key=log_key)
    exec_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/prod-cluster-exec-key"

    [key] = plan.of_type(KEY)
    assert key.name == "prod-cluster-exec-key"
    assert key.props["enableKeyRotation"] is True
    assert key.props["deletionWindowInDays"] == 30.0
    # Admits CloudWatch Logs, so it can encrypt the exec log group when there is no log key.
    assert json.loads(key.props["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsUse",
                "Effect": "Allow",
                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                # Only for this account's log groups in this region: the encryption context
                # CloudWatch Logs sends names the group.
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}},
            },
        ],
    }
    assert key.protect is True
    [alias] = plan.of_type(ALIAS)
    assert alias.props["name"] == "alias/ecs/prod/exec"

    [group] = plan.of_type(LOG_GROUP)
    assert group.name == "prod-cluster-exec-logs"
    assert group.props["name"] == "/ecs/prod/exec"
    assert group.props["retentionInDays"] == 90.0
    assert group.props["kmsKeyId"] == group_key
    assert group.protect is True

    [cluster] = plan.of_type(CLUSTER)
    assert cluster.props["configuration"] == {
        "executeCommandConfiguration": {
            "kmsKeyId": exec_key_arn,
            "logging": "OVERRIDE",
            "logConfiguration": {"cloudWatchLogGroupName": "/ecs/prod/exec", "cloudWatchEncryptionEnabled": True},
        }
    }
    assert {key.urn, group.urn} <= set(cluster.depends_on)
    assert plan.outputs["exec_kms_key_arn"] == exec_key_arn
    assert plan.outputs["exec_log_group_name"] == "/ecs/prod/exec"


def test_exec_stateful_resources_follow_protect():
    plan = plan_cluster(cluster_config(exec={"enabled": True}), protect=False)
    assert [r.protect for r in plan.of_type(KEY) + plan.of_type(LOG_GROUP)] == [False, False]


# ---- EC2 providers: launch template ---------------------------------------------------------


def test_launch_template_metadata_disks_network_and_ami_per_architecture(all_three):
    [general, graviton] = all_three.of_type(LAUNCH_TEMPLATE)
    assert (general.name, graviton.name) == ("prod-cluster-general-launch-template", "prod-cluster-graviton-launch-template")
    assert general.props["imageId"] == AMIS[X86_AMI]
    assert graviton.props["imageId"] == AMIS[ARM_AMI]

    profiles = {p.name: p for p in all_three.of_type(PROFILE)}
    for template, key, size in ((general, "general", 30.0), (graviton, "graviton", 60.0)):
        props = template.props
        assert props["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1.0,
            "instanceMetadataTags": "disabled",
        }
        assert props["blockDeviceMappings"] == [
            {
                "deviceName": "/dev/xvda",
                "ebs": {"volumeSize": size, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"},
            }
        ]
        assert props["networkInterfaces"] == [
            {
                "deviceIndex": 0.0,
                "associatePublicIpAddress": "false",
                "deleteOnTermination": "true",
                "securityGroups": [all_three.outputs["instance_security_group_id"]],
            }
        ]
        profile = profiles[f"prod-cluster-{key}-instance-profile"]
        assert props["iamInstanceProfile"] == {
            "arn": f"arn:aws:iam::{ACCOUNT}:instanceprofile/{profile.name}"
        }
        assert props["updateDefaultVersion"] is True
        assert "vpcSecurityGroupIds" not in props and "instanceType" not in props
        instance_tags = {**TAGS, "Name": f"prod-cluster-{key}"}
        assert props["tagSpecifications"] == [
            {"resourceType": kind, "tags": instance_tags} for kind in ("instance", "volume", "network-interface")
        ]
        # Instances launch only after the cluster exists and the role holds its policies.
        assert all_three.named("prod-cluster", CLUSTER).urn in template.depends_on
        assert {a.urn for a in all_three.of_type(ATTACHMENT) if a.name.startswith(f"prod-cluster-{key}-")} <= set(
            template.depends_on
        )


def test_user_data_joins_the_cluster_and_hardens_the_agent(all_three):
    expected = (
        "#!/bin/bash\n"
        "cat <<'EOF' >> /etc/ecs/ecs.config\n"
        "ECS_CLUSTER=prod-cluster\n"
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true\n"
        "ECS_ENABLE_TASK_IAM_ROLE=true\n"
        "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true\n"
        "ECS_AWSVPC_BLOCK_IMDS=true\n"
        "ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM=ec2_instance\n"
        "EOF\n"
    )
    assert user_data("prod-cluster") == expected
    for template in all_three.of_type(LAUNCH_TEMPLATE):
        assert base64.b64decode(template.props["userData"]).decode() == expected


def test_a_gpu_provider_boots_the_gpu_optimised_ami_with_gpu_support_on():
    plan = plan_cluster(with_ec2({"general": GENERAL, "gpu": {"instance_types": ["g5.xlarge", "g4dn.xlarge"], "max_size": 4}}))
    templates = {t.name: t.props for t in plan.of_type(LAUNCH_TEMPLATE)}
    assert templates["prod-cluster-gpu-launch-template"]["imageId"] == AMIS[GPU_AMI] == "ami-0gpu0gpu0gpu0gpu"
    assert templates["prod-cluster-general-launch-template"]["imageId"] == AMIS[X86_AMI]
    gpu_user_data = base64.b64decode(templates["prod-cluster-gpu-launch-template"]["userData"]).decode()
    assert gpu_user_data == user_data("prod-cluster", gpu=True) == user_data("prod-cluster").replace(
        "ECS_CLUSTER=prod-cluster\n", "ECS_CLUSTER=prod-cluster\nECS_ENABLE_GPU_SUPPORT=true\n"
    )
    assert "GPU" not in base64.b64decode(templates["prod-cluster-general-launch-template"]["userData"]).decode()
    group = plan.named("prod-cluster-gpu-asg", ASG).props
    overrides = group["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    assert overrides == [{"instanceType": "g5.xlarge"}, {"instanceType": "g4dn.xlarge"}]


def test_a_provider_whose_ami_was_not_looked_up_is_refused_before_registering():
    config = with_ec2({"gpu": {"instance_types": ["g5.xlarge"]}})

    def program(_cfg) -> dict:
        facts = PlatformFacts(ACCOUNT, "eu-west-1", "aws", tuple(sorted(SUBNETS)), {X86_AMI: "ami-0x86x86x86x86x86"})
        with pytest.raises(ValueError) as caught:
            Cluster("prod-cluster", ClusterArgs(config, "prod", facts, "vpc-123", dict(SUBNETS), 90, None, dict(TAGS), True))
        assert str(caught.value) == f"facts.ecs_amis has no AMI for {GPU_AMI}; look it up in lookup_facts"
        return {}

    assert run_program(reference_config("prod"), program=program).resources == []


# ---- EC2 providers: Auto Scaling group and capacity provider --------------------------------


def test_asg_mixed_instances_numbers_and_ecs_ownership(all_three):
    general = all_three.named("prod-cluster-general-asg", ASG)
    assert general.props["mixedInstancesPolicy"] == {
        "launchTemplate": {
            "launchTemplateSpecification": {
                "launchTemplateId": "prod-cluster-general-launch-template-id",
                "version": "$Default",
            },
            "overrides": [{"instanceType": "m6i.large"}, {"instanceType": "m5.large"}],
        },
        "instancesDistribution": {
            "onDemandAllocationStrategy": "prioritized",
            "onDemandBaseCapacity": 1.0,
            "onDemandPercentageAboveBaseCapacity": 25.0,
            "spotAllocationStrategy": "price-capacity-optimized",
        },
    }
    assert (general.props["minSize"], general.props["maxSize"]) == (1.0, 10.0)
    assert general.props["capacityRebalance"] is True
    assert general.props["protectFromScaleIn"] is True
    assert general.props["forceDelete"] is True
    # Subnets in zone order, whatever order the network hands them over in.
    assert general.props["vpcZoneIdentifiers"] == ["subnet-a", "subnet-b", "subnet-c"]
    # ECS managed scaling owns the desired capacity.
    assert "desiredCapacity" not in general.props
    assert general.ignore_changes == ("desiredCapacity",)
    assert general.props["tags"] == [
        {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True},
        {"key": "env", "value": "prod", "propagateAtLaunch": False},
        {"key": "team", "value": "platform", "propagateAtLaunch": False},
    ]

    graviton = all_three.named("prod-cluster-graviton-asg", ASG)
    assert graviton.props["mixedInstancesPolicy"]["instancesDistribution"] == {
        "onDemandAllocationStrategy": "prioritized",
        "onDemandBaseCapacity": 0.0,
        "onDemandPercentageAboveBaseCapacity": 100.0,
        "spotAllocationStrategy": "price-capacity-optimized",
    }
    assert (graviton.props["minSize"], graviton.props["maxSize"]) == (0.0, 4.0)


def test_capacity_provider_managed_scaling_termination_protection_and_draining(all_three):
    general = all_three.named("prod-cluster-general-capacity-provider", CAPACITY_PROVIDER)
    assert general.props["name"] == "general-prod-cluster"
    assert general.props["autoScalingGroupProvider"] == {
        "autoScalingGroupArn": "arn:aws:autoscaling:eu-west-1:123456789012:group/prod-cluster-general-asg",
        "managedScaling": {"status": "ENABLED", "targetCapacity": 90.0},
        "managedTerminationProtection": "ENABLED",
        "managedDraining": "ENABLED",
    }
    graviton = all_three.named("prod-cluster-graviton-capacity-provider", CAPACITY_PROVIDER)
    assert graviton.props["autoScalingGroupProvider"]["managedScaling"] == {"status": "ENABLED", "targetCapacity": 100.0}


# ---- EC2 providers: identity and network ----------------------------------------------------


def test_instance_role_trusts_ec2_with_only_agent_and_ssm_policies(all_three):
    roles = all_three.of_type(ROLE)
    assert [r.name for r in roles] == ["prod-cluster-general-instance-role", "prod-cluster-graviton-instance-role"]
    for role in roles:
        assert json.loads(role.props["assumeRolePolicy"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        assert "inlinePolicies" not in role.props and "managedPolicyArns" not in role.props
    assert role.props["assumeRolePolicy"] == instance_trust_policy()
    assert sorted((a.name, a.props["role"], a.props["policyArn"]) for a in all_three.of_type(ATTACHMENT)) == [
        (
            "prod-cluster-general-ecs-agent",
            "prod-cluster-general-instance-role",
            "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
        ),
        ("prod-cluster-general-ssm-core", "prod-cluster-general-instance-role", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"),
        (
            "prod-cluster-graviton-ecs-agent",
            "prod-cluster-graviton-instance-role",
            "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
        ),
        ("prod-cluster-graviton-ssm-core", "prod-cluster-graviton-instance-role", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"),
    ]
    assert sorted((p.name, p.props["role"]) for p in all_three.of_type(PROFILE)) == [
        ("prod-cluster-general-instance-profile", "prod-cluster-general-instance-role"),
        ("prod-cluster-graviton-instance-profile", "prod-cluster-graviton-instance-role"),
    ]


def test_instance_security_group_admits_nothing_and_sends_only_https(all_three):
    [group] = all_three.of_type(SECURITY_GROUP)
    assert group.name == "prod-cluster-instances"
    assert group.props["vpcId"] == "vpc-123"
    assert "ingress" not in group.props and "egress" not in group.props
    assert all_three.of_type(INGRESS) == []
    assert [(r.name, r.props) for r in all_three.of_type(EGRESS)] == [
        (
            "prod-cluster-instances-https-out",
            {
                "securityGroupId": all_three.outputs["instance_security_group_id"],
                "description": "HTTPS to AWS APIs (ECS, ECR, S3, CloudWatch Logs, SSM) and registries",
                "ipProtocol": "tcp",
                "fromPort": 443.0,
                "toPort": 443.0,
                "cidrIpv4": "0.0.0.0/0",
                "tags": TAGS,
            },
        )
    ]


# ---- stable identities ----------------------------------------------------------------------


def _by_identity(plan: Plan) -> dict[tuple[str, str], dict]:
    return {(r.type, r.name): r.props for r in plan.resources}


def test_deleting_one_ec2_provider_touches_none_of_the_others(all_three):
    without_graviton = plan_cluster(with_ec2({"general": GENERAL}))
    before, after = _by_identity(all_three), _by_identity(without_graviton)

    removed = sorted(set(before) - set(after))
    assert removed == sorted(
        [
            (ASG, "prod-cluster-graviton-asg"),
            (LAUNCH_TEMPLATE, "prod-cluster-graviton-launch-template"),
            (CAPACITY_PROVIDER, "prod-cluster-graviton-capacity-provider"),
            (ROLE, "prod-cluster-graviton-instance-role"),
            (ATTACHMENT, "prod-cluster-graviton-ecs-agent"),
            (ATTACHMENT, "prod-cluster-graviton-ssm-core"),
            (PROFILE, "prod-cluster-graviton-instance-profile"),
        ]
    )
    assert set(after) <= set(before)
    changed = sorted(identity for identity in after if after[identity] != before[identity])
    # Only the attachment list changes: the provider leaves the cluster.
    assert changed == [(PROVIDERS, "prod-cluster-providers")]
    assert after[(PROVIDERS, "prod-cluster-providers")]["capacityProviders"] == [
        "FARGATE",
        "FARGATE_SPOT",
        "general-prod-cluster",
    ]


def test_reordering_ec2_providers_in_the_yaml_changes_nothing(all_three):
    reordered = plan_cluster(with_ec2({"graviton": GRAVITON, "general": GENERAL}))
    assert _by_identity(reordered) == _by_identity(all_three)


# ---- invalid input refused at the component -------------------------------------------------

FARGATE_AND_GENERAL = {"fargate": True, "fargate_spot": True, "ec2": {"general": GENERAL}}


@pytest.mark.parametrize(
    ("capacity", "default", "message"),
    [
        pytest.param(
            FARGATE_AND_GENERAL,
            [{"provider": "fargate", "weight": 1}, {"provider": "general", "weight": 1}],
            "cluster.default_strategy: mixes EC2 and Fargate providers (fargate, general); AWS rejects a strategy "
            "that holds both, so split the service or pick one kind",
            id="ec2-and-fargate-mixed",
        ),
        pytest.param(
            FARGATE_AND_GENERAL,
            [{"provider": "fargate", "base": 1}, {"provider": "fargate_spot", "base": 2}],
            "cluster.default_strategy[1].base: only one entry of a strategy may have a base; remove the other bases",
            id="two-bases",
        ),
        pytest.param(
            FARGATE_AND_GENERAL,
            [{"provider": "spot"}],
            "cluster.default_strategy[0].provider: 'spot' is not a declared capacity provider; "
            "declared: fargate, fargate_spot, general",
            id="undeclared",
        ),
        pytest.param(
            {"fargate": True, "fargate_spot": False},
            [{"provider": "fargate_spot"}],
            "cluster.default_strategy[0].provider: 'fargate_spot' is not a declared capacity provider; declared: fargate",
            id="spot-not-enabled",
        ),
        pytest.param(
            FARGATE_AND_GENERAL,
            [{"provider": "fargate", "weight": 0}, {"provider": "fargate_spot", "weight": 0}],
            "cluster.default_strategy: every weight is 0; at least one entry needs a weight above 0",
            id="no-positive-weight",
        ),
        pytest.param(
            {"fargate": True, "fargate_spot": True, "ec2": {"graviton": GRAVITON}},
            [{"provider": "fargate_spot"}, {"provider": "graviton"}],
            "cluster.default_strategy: mixes EC2 and Fargate providers (fargate_spot, graviton); AWS rejects a "
            "strategy that holds both, so split the service or pick one kind",
            id="spot-with-arm64-ec2",
        ),
        pytest.param(
            {"fargate": False, "fargate_spot": False, "ec2": {"general": GENERAL, "graviton": GRAVITON}},
            [{"provider": "general"}, {"provider": "graviton"}],
            "cluster.default_strategy: mixes x86_64 and arm64 EC2 providers; one task definition has one architecture",
            id="two-architectures",
        ),
        pytest.param(
            FARGATE_AND_GENERAL,
            [{"provider": "fargate"}, {"provider": "fargate", "weight": 2}],
            "cluster.default_strategy[1].provider: 'fargate' appears twice in one strategy; merge the entries",
            id="duplicate",
        ),
        pytest.param(
            {"fargate": True, "fargate_spot": False, "ec2": {"ecs-nodes": GENERAL}},
            [{"provider": "fargate"}],
            "cluster.capacity.ec2.ecs-nodes: 'ecs-nodes' is reserved (fargate, fargate_spot and names starting "
            "aws/ecs); rename the provider",
            id="reserved-provider-name",
        ),
        pytest.param(
            {"fargate": False, "fargate_spot": False},
            [{"provider": "fargate"}],
            "cluster.capacity: no capacity provider is enabled; enable fargate or declare an ec2 provider",
            id="no-provider",
        ),
    ],
)
def test_invalid_input_is_refused_before_anything_is_registered(capacity, default, message):
    config = cluster_config(capacity=capacity, default_strategy=default)
    registered: list[str] = []

    def program(cfg):
        try:
            build(config)(cfg)
        except ValueError as error:
            registered.append(str(error))
        return {}

    plan = run_program(reference_config("prod"), program=program)
    assert registered == [message]
    assert plan.resources == []


def test_unvalidated_weights_are_refused_too():
    entry = StrategyEntry.model_construct(provider="fargate", base=0, weight=1001)
    problems = strategy_problems([entry], fargate=["fargate"], ec2={})
    assert problems == [((0, "weight"), "1001 is outside 0-1000")]


def test_spot_is_accepted_for_arm64_tasks_as_for_x86_64():
    # FARGATE_SPOT runs ARM64 on platform version 1.4.0+ (containers-roadmap #1594, closed).
    entries = [StrategyEntry(provider="fargate", weight=1), StrategyEntry(provider="fargate_spot", weight=1)]
    assert strategy_problems(entries, fargate=["fargate", "fargate_spot"], ec2={}) == []


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_the_shared_rules_accept_every_reference_strategy(environment):
    config = reference_config(environment)
    capacity = config.cluster.capacity
    declared = [key for key in ("fargate", "fargate_spot") if getattr(capacity, key)]
    ec2 = {key: p.architecture for key, p in capacity.ec2.items()}
    for key in config.services:
        assert strategy_problems(
            config.strategy_for(key), fargate=declared, ec2=ec2
        ) == []


# ---- the reference environments -------------------------------------------------------------


def _reference_cluster_plan(environment: str) -> Plan:
    config = reference_config(environment)
    program = build(
        config.cluster,
        environment=environment,
        log_key=LOG_KEY if config.logs.kms else None,
        protect=config.protect_resources,
        tags=config.all_tags,
        retention=config.exec_log_retention,
    )
    return run_program(config, program=program)


@pytest.mark.parametrize(
    ("environment", "counts", "names"),
    [
        (
            "dev",
            {ALIAS: 1, LOG_GROUP: 1, CLUSTER: 1, PROVIDERS: 1, KEY: 1},
            {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"},
        ),
        ("staging", {CLUSTER: 1, PROVIDERS: 1}, {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"}),
        (
            "prod",
            {
                ASG: 1,
                LAUNCH_TEMPLATE: 1,
                SECURITY_GROUP: 1,
                CAPACITY_PROVIDER: 1,
                CLUSTER: 1,
                PROVIDERS: 1,
                PROFILE: 1,
                ROLE: 1,
                ATTACHMENT: 2,
                EGRESS: 1,
                "aws:servicediscovery/httpNamespace:HttpNamespace": 1,  # cluster.service_connect
            },
            {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT", "general": "general-prod-cluster"},
        ),
    ],
)
def test_reference_environments_plan_a_cluster(environment, counts, names):
    plan = _reference_cluster_plan(environment)
    assert plan.count_by_type() == dict(sorted(counts.items()))
    assert plan.outputs["capacity_provider_names"] == names
