"""Which VPC endpoints a workload needs: the one rule that `network.endpoints: auto`
(configs/endpoints.py, from the environment file) and the pack's aws-vpc-endpoints-without-nat
(policies/vpc.py, from the resources) both apply, each from what it can see.

No `sts` unless listed: task credentials come from the ECS agent's credential endpoint
(169.254.170.2), not from STS, so an STS endpoint would cost 2-3 x $8/month for nothing. Neither
EFS mounts (mount targets in the VPC) nor EventBridge Scheduler (it calls ECS from AWS's side)
nor Application Auto Scaling (it reads CloudWatch from AWS's side) needs an endpoint. A grant
on a KMS key conditioned on kms:ViaService is used by that service on the task's behalf (an
SSE-KMS queue's messages), not called by the task, so it needs no KMS endpoint either.
"""

from __future__ import annotations

from typing import Iterable

# Always: image pulls (ECR API + registry, layers from S3) and awslogs.
BASELINE = ("s3", "ecr.api", "ecr.dkr", "logs")
# The ECS agent on EC2 instances talks to these.
EC2_AGENT = ("ecs", "ecs-agent", "ecs-telemetry")
# Session Manager on the EC2 instances (the README's only way onto them: no SSH, no inbound
# rule) needs these three when the VPC has no NAT.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
SESSION_MANAGER = ("ssm", "ssmmessages", "ec2messages")
# ECS Exec: the SSM agent in the task opens its channel through ssmmessages and decrypts the
# session with the exec KMS key.
EXEC = ("ssmmessages", "kms")
# A queue-scaled service's tasks receive and delete messages: the SQS API.
QUEUE_CONSUMER = ("sqs",)
# The APIs a task role lets the application call (IAM service prefix -> endpoint suffix), for
# the services whose VPC endpoint the platform creates; only a VPC without NAT needs them (with
# NAT the calls leave through it). Services the baseline, secrets or exec already cover are
# listed too, so a grant to them needs nothing more. Mounting EFS (elasticfilesystem:Client*) is
# NFS to the mount targets, not an API call, and is left out on purpose.
CALLED_SERVICE_ENDPOINTS = {
    "dynamodb": "dynamodb",  # a gateway endpoint, free like S3's
    "events": "events",
    "kinesis": "kinesis-streams",
    "kms": "kms",
    "lambda": "lambda",
    "cloudwatch": "monitoring",
    "ecr": "ecr.api",
    "logs": "logs",
    "s3": "s3",
    "secretsmanager": "secretsmanager",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
    "ssmmessages": "ssmmessages",
    "states": "states",
    "sts": "sts",
    "xray": "xray",
}


def called_service_endpoints(prefixes: Iterable[str]) -> set[str]:
    """Endpoint suffixes for IAM service prefixes a task role grants (`sqs`, `dynamodb`...)."""
    return {CALLED_SERVICE_ENDPOINTS[p.lower()] for p in prefixes if p.lower() in CALLED_SERVICE_ENDPOINTS}


def endpoints_for(
    *,
    secret_kinds: Iterable[str],
    exec_enabled: bool,
    ec2_capacity: bool,
    without_nat: bool,
    queue_scaled: bool,
    called_services: Iterable[str] = (),
) -> set[str]:
    """The endpoint suffixes (com.amazonaws.<region>.<suffix>) for what a stack runs.

    `secret_kinds`: "secretsmanager" or "ssm" for every secret any container of any task
    (service, job, sidecar) injects. `called_services`: the IAM service prefixes the task roles
    grant actions of (the application's own calls)."""
    needed = set(BASELINE) | set(secret_kinds)
    if exec_enabled:
        needed.update(EXEC)
    if ec2_capacity:
        needed.update(EC2_AGENT)
        if without_nat:
            needed.update(SESSION_MANAGER)
    if queue_scaled:
        needed.update(QUEUE_CONSUMER)
    if without_nat:
        needed.update(called_service_endpoints(called_services))
    return needed
