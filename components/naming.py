"""The one naming helper: logical names from the component name and mapping keys, and AWS
physical names that respect each service's length limit.

Renaming a logical name replaces the live resource, so names never contain list positions
and never change without an alias.

Names derived from keys are bounded, never refused: a name within its limit is used unchanged
(so nothing deployed is renamed or replaced), and a longer one becomes a prefix of it, `-` and a
7-character digest of the whole name, which is stable from run to run and keeps distinct names
distinct. A resource Pulumi autonames (`<logical name>-<7 random characters>`) is bounded 8
characters shorter: its logical name (the last part of its URN) is what gets shortened, and it
changes only where the unshortened name would have failed the preview, so no deployed resource
is affected. Names users type in commands (ECS service names, repository names, task families)
are refused by the loader instead (configs/), never shortened behind their back.
"""

from __future__ import annotations

import hashlib
import re

TYPE_PREFIX = "ecsplatform"
DIGEST_LENGTH = 7
# Pulumi autonames a resource `<logical name>-<7 random characters>`: 8 more than the name.
PULUMI_AUTONAME_SUFFIX = 8

# The maximum length of the name of every AWS resource type this platform registers with a
# name (its `name` input; `family` for task definitions). A test plans long keys and holds every
# registered name to this table, and fails for a named type missing from it.
NAME_LIMITS: dict[str, int] = {
    # IAM quotas: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    "aws:iam/role:Role": 64,
    "aws:iam/rolePolicy:RolePolicy": 128,
    "aws:iam/instanceProfile:InstanceProfile": 128,
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
    "aws:lb/loadBalancer:LoadBalancer": 32,
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
    "aws:lb/targetGroup:TargetGroup": 32,
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
    "aws:ec2/securityGroup:SecurityGroup": 255,
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
    "aws:ec2/launchTemplate:LaunchTemplate": 128,
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
    "aws:autoscaling/group:Group": 255,
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
    "aws:cloudwatch/logGroup:LogGroup": 512,
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    "aws:cloudwatch/metricAlarm:MetricAlarm": 255,
    # https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
    "aws:scheduler/schedule:Schedule": 64,
    "aws:scheduler/scheduleGroup:ScheduleGroup": 64,
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
    "aws:sfn/stateMachine:StateMachine": 80,
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
    "aws:sqs/queue:Queue": 80,
    # https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
    "aws:sns/topic:Topic": 256,
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
    "aws:kms/alias:Alias": 256,
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html (and
    # CreateCapacityProvider, CreateService, RegisterTaskDefinition's family): 255
    "aws:ecs/cluster:Cluster": 255,
    "aws:ecs/capacityProvider:CapacityProvider": 255,
    "aws:ecs/service:Service": 255,
    "aws:ecs/taskDefinition:TaskDefinition": 255,
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
    "aws:ecr/repository:Repository": 256,
    # https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html
    "aws:appautoscaling/policy:Policy": 256,
    # https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
    "aws:appautoscaling/scheduledAction:ScheduledAction": 256,
    # https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html (the loader
    # holds cluster.service_connect.namespace to a DNS name's 253)
    "aws:servicediscovery/httpNamespace:HttpNamespace": 1024,
}

# Types whose names users type in commands (`aws ecs update-service --service`, `docker push`,
# `run-task --task-definition`): the loader refuses a key that makes them too long.
TYPED_NAMES = frozenset(
    {"aws:ecs/service:Service", "aws:ecr/repository:Repository", "aws:ecs/taskDefinition:TaskDefinition"}
)


def type_token(module: str, cls: str) -> str:
    return f"{TYPE_PREFIX}:{module}:{cls}"


def child(parent_name: str, *parts: str) -> str:
    """`prod-api` + (`task`,) -> `prod-api-task`."""
    return "-".join((parent_name, *parts))


def name_part(value: str) -> str:
    """A value written in YAML (a CIDR such as 10.50.0.0/16) as a part of a logical name:
    `10-50-0-0-16`. Keys and AWS ids (pl-..., sg-...) pass unchanged."""
    return re.sub(r"[^A-Za-z0-9-]", "-", value)


def family(environment: str, key: str) -> str:
    """`prod` + `api` -> `prod-api`: a service's name within its environment (task definition
    family, security group Name tag, scaling policy and target group names)."""
    return f"{environment}-{key}"


def physical(name: str, max_length: int) -> str:
    """`name` when it fits max_length; else a prefix of it, `-` and a 7-character digest of the
    whole name, within max_length."""
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{name[: max_length - DIGEST_LENGTH - 1].rstrip('-')}-{digest}"


def bounded(resource_type: str, name: str) -> str:
    """The physical name `name` for a resource of `resource_type`, within that type's limit."""
    return physical(name, NAME_LIMITS[resource_type])


def autonamed(resource_type: str, logical_name: str) -> str:
    """The logical name for a resource Pulumi autonames: short enough that the autoname
    (`<logical name>-<7 random>`) fits the type's limit."""
    return physical(logical_name, NAME_LIMITS[resource_type] - PULUMI_AUTONAME_SUFFIX)


# Limits of the names we set explicitly.
TARGET_GROUP_NAME_MAX = NAME_LIMITS["aws:lb/targetGroup:TargetGroup"]
LOAD_BALANCER_NAME_MAX = NAME_LIMITS["aws:lb/loadBalancer:LoadBalancer"]
IAM_ROLE_NAME_MAX = NAME_LIMITS["aws:iam/role:Role"]
