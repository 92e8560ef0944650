"""AWS limits and allowed values the environment model validates against.

Kept apart from the model so that components and the policy pack can use the same facts.
"""

from __future__ import annotations

# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
# cpu units -> (lowest memory MiB, highest memory MiB, step MiB); 256 and 512 list explicit values.
_FARGATE_MEMORY_RANGES: dict[int, tuple[int, int, int]] = {
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    **{
        cpu: tuple(range(low, high + 1, step))
        for cpu, (low, high, step) in _FARGATE_MEMORY_RANGES.items()
    },
}


def describe_fargate_memory(cpu: int) -> str:
    """The valid memory values for a CPU size, compact enough for an error message."""
    if cpu in _FARGATE_MEMORY_RANGES:
        low, high, step = _FARGATE_MEMORY_RANGES[cpu]
        return f"{low}-{high} in steps of {step}"
    return ", ".join(str(m) for m in FARGATE_MEMORY_BY_CPU[cpu])


# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)

# ECS capacity-provider strategy limits (CreateService / PutClusterCapacityProviders).
STRATEGY_MAX_WEIGHT = 1000
STRATEGY_MAX_BASE = 100000

# Names of the AWS-managed Fargate capacity providers, by their key in the environment file.
FARGATE_PROVIDERS: dict[str, str] = {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"}

# ALB listener-rule priorities: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html
LISTENER_RULE_PRIORITY_RANGE = (1, 50000)

# Container health checks (RegisterTaskDefinition HealthCheck): timeout 2-60 s, startPeriod 0-300 s.
CONTAINER_HEALTH_CHECK_MAX_TIMEOUT = 60
CONTAINER_HEALTH_CHECK_MAX_START_PERIOD = 300

# The stop timeout ECS accepts for a container on Fargate, in seconds.
MAX_STOP_TIMEOUT = 120

# VPC endpoint service suffixes the platform knows how to create (com.amazonaws.<region>.<suffix>).
GATEWAY_ENDPOINTS: tuple[str, ...] = ("s3", "dynamodb")
INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ssmmessages", "ec2messages",
    "ecs", "ecs-agent", "ecs-telemetry", "sts", "kms",
    # The APIs applications call most (policies/endpoint_needs.py CALLED_SERVICE_ENDPOINTS).
    "sqs", "sns", "events", "states", "kinesis-streams", "monitoring", "xray", "lambda",
)
KNOWN_ENDPOINTS: tuple[str, ...] = GATEWAY_ENDPOINTS + INTERFACE_ENDPOINTS

# Application Load Balancer quotas and condition limits.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
ALB_RULES_MAX = 100  # rules per load balancer, not counting default rules
ALB_TARGET_GROUPS_MAX = 100  # target groups per load balancer
ALB_PATH_PATTERN_MAX = 128
ALB_HOST_PATTERN_MAX = 128
# "Your load balancer subnets must have at least 8 free IP addresses" (ALB docs, Subnets).
ALB_FREE_ADDRESSES_PER_SUBNET = 8
# AWS reserves the first four and the last address of every subnet.
SUBNET_RESERVED_ADDRESSES = 5

# RegisterTaskDefinition: container definitions together at most 64 KiB.
CONTAINER_DEFINITION_MAX_BYTES = 65536

# Share of installed memory the ECS agent registers for tasks: an m4.large's 8192 MiB registers
# as 7985 MiB (kernel and platform overhead, AWS's example in "Reserving Amazon ECS Linux
# container instance memory"); this platform sets no ECS_RESERVED_MEMORY on top.
ECS_REGISTERED_MEMORY_FRACTION = 7985 / 8192

# Zone letters per region (DescribeAvailabilityZones, opt-in Local Zones excluded), as of
# 2026; the plan still checks the zones AWS returns. A region outside this table is not judged.
REGION_ZONES: dict[str, str] = {
    "us-east-1": "abcdef", "us-east-2": "abc", "us-west-1": "abc", "us-west-2": "abcd",
    "ca-central-1": "abd", "sa-east-1": "abc",
    "eu-west-1": "abc", "eu-west-2": "abc", "eu-west-3": "abc", "eu-central-1": "abc",
    "eu-central-2": "abc", "eu-north-1": "abc", "eu-south-1": "abc", "eu-south-2": "abc",
    "ap-south-1": "abc", "ap-southeast-1": "abc", "ap-southeast-2": "abc", "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd", "ap-northeast-3": "abc", "ap-east-1": "abc",
}
