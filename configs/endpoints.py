"""`network.endpoints: auto`: the VPC endpoints an environment needs, derived from what it uses.

A pure function of the validated model, shared by the network component, the config checks
(an explicit list with `nat: none` must contain these) and the policy pack.
"""

from __future__ import annotations

from configs.model import EnvironmentConfig

# Always: image pulls (ECR API + registry, layers from S3) and awslogs.
BASELINE = ("s3", "ecr.api", "ecr.dkr", "logs")
# The ECS agent on EC2 instances talks to these.
EC2_AGENT = ("ecs", "ecs-agent", "ecs-telemetry")
# Session Manager on the EC2 instances (the README's only way onto them: no SSH, no inbound
# rule) needs these three when the VPC has no NAT.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
SESSION_MANAGER = ("ssm", "ssmmessages", "ec2messages")


def required_endpoints(config: EnvironmentConfig) -> tuple[str, ...]:
    """Sorted endpoint suffixes (com.amazonaws.<region>.<suffix>) the environment needs.

    No `sts` unless listed: task credentials come from the ECS agent's credential endpoint
    (169.254.170.2), not from STS, so an STS endpoint would cost 2-3 x $8/month for nothing.
    Neither EFS mounts (mount targets in the VPC) nor EventBridge Scheduler (it calls ECS from
    AWS's side) needs an endpoint."""
    needed = set(BASELINE)
    refs = [ref for svc in config.services.values() for ref in svc.secret_refs]
    if any(ref.secret for ref in refs):
        needed.add("secretsmanager")
    if any(ref.parameter for ref in refs):
        needed.add("ssm")
    if config.cluster.exec.enabled:
        # The SSM agent in the task opens its channel through ssmmessages and decrypts the
        # session with the exec KMS key.
        needed.update(("ssmmessages", "kms"))
    if config.cluster.capacity.ec2:
        needed.update(EC2_AGENT)
        if config.network.nat == "none":
            needed.update(SESSION_MANAGER)
    return tuple(sorted(needed))


def resolve_endpoints(config: EnvironmentConfig) -> tuple[str, ...]:
    endpoints = config.network.endpoints
    return required_endpoints(config) if endpoints == "auto" else tuple(sorted(set(endpoints)))
