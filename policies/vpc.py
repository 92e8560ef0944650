"""VPC: flow logs, private routing, endpoints for NAT-less networks, private DNS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .ec2 import SUBNET, VPC, internet_route_tables
from .endpoint_needs import endpoints_for  # the rule `network.endpoints: auto` applies too
from .ecs_cluster import CAPACITY_PROVIDER, CLUSTER
from .ecs_service import SERVICE
from .ecs_task_definition import TASK_DEFINITION, referenced_secrets
from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, is_secrets_manager, peek, truthy
from .iam import ROLE, called_service_prefixes

FLOW_LOG = "aws:ec2/flowLog:FlowLog"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"

PRIVATE_TAG_KEYS = ("tier", "Tier", "subnet-type", "type", "Type")


def flow_logs(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    logs = stack.referrers(subject, "vpcId", (FLOW_LOG,))
    if not logs:
        yield "has no flow log, so rejected and accepted traffic leaves no trace"
        return
    kinds = sorted({str(get(stack.props(log), "trafficType", default="")) for log in logs})
    if "ALL" not in kinds:
        yield f"its flow logs record {', '.join(kinds)} traffic only, not ALL"


def is_private(subnet, stack: Stack) -> bool:
    """Private by tag (tier: private) or by the naming helper's `<env>-private-<az>`."""
    tags = get(stack.props(subnet), "tags", default={})
    if any(tags.get(key) == "private" for key in PRIVATE_TAG_KEYS):
        return True
    return "private" in subnet.name.split("-")


def private_routes(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    if not is_private(subject, stack):
        return
    for table in internet_route_tables(subject, stack):
        yield f"its route table {table.name} routes to the internet gateway"


def no_auto_public_ip(props: Mapping, _settings: Settings) -> Iterable[str]:
    # The ALB's public subnets need no auto-assigned addresses either: load balancers get theirs.
    if truthy(get(props, "mapPublicIpOnLaunch")):
        yield "mapPublicIpOnLaunch is on: every instance launched here gets a public IP"


def needed_endpoints(stack: Stack, configured: Iterable[str]) -> set[str]:
    """The endpoint suffixes the stack's resources need (judged only without NAT), by the rule
    `endpoints: auto` applies: secrets of every task definition (services, jobs, sidecars),
    exec, EC2 capacity, queue workers (a scaling policy on an SQS metric) and the APIs the task
    roles grant."""
    kinds = {
        "secretsmanager" if is_secrets_manager(ref) else "ssm"
        for task in stack.of(TASK_DEFINITION)
        for ref in referenced_secrets(stack.props(task))
    }
    return set(configured) | endpoints_for(
        secret_kinds=kinds,
        exec_enabled=any(truthy(peek(stack.props(s), "enableExecuteCommand")) for s in stack.of(SERVICE)),
        ec2_capacity=bool(stack.of(CAPACITY_PROVIDER)),
        without_nat=True,
        queue_scaled=any(_scales_on_a_queue(stack.props(policy)) for policy in stack.of(SCALING_POLICY)),
        called_services={
            prefix
            for task in stack.of(TASK_DEFINITION)
            for role in stack.linked(task, "taskRoleArn", (ROLE,), by=("arn",))
            for prefix in called_service_prefixes(role, stack)
        },
    )


def _scales_on_a_queue(props: Mapping) -> bool:
    """A target tracking policy whose metrics (plain or metric math) include an AWS/SQS one."""
    spec = peek(props, "targetTrackingScalingPolicyConfiguration", "customizedMetricSpecification") or {}
    if not isinstance(spec, Mapping):
        return False
    namespaces = [spec.get("namespace")] + [
        ((metric.get("metricStat") or {}).get("metric") or {}).get("namespace")
        for metric in spec.get("metrics") or []
        if isinstance(metric, Mapping)
    ]
    return "AWS/SQS" in namespaces


def endpoint_suffix(service_name: str) -> str:
    """com.amazonaws.eu-west-1.ecr.dkr -> ecr.dkr"""
    parts = service_name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 else service_name


def endpoints_without_nat(subject, stack: Stack, settings: Settings) -> Iterable[str]:
    if stack.of(NAT_GATEWAY) or not (stack.of(SERVICE) or stack.of(CLUSTER)):
        return
    present = {endpoint_suffix(str(get(stack.props(e), "serviceName", default=""))) for e in stack.referrers(subject, "vpcId", (ENDPOINT,))}
    missing = sorted(needed_endpoints(stack, settings.option("requiredEndpoints")) - present)
    if missing:
        yield f"has no NAT gateway and lacks the VPC endpoints {', '.join(missing)}, so tasks cannot start"


def private_dns(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Without private DNS the SDKs resolve the public service names and bypass the endpoint.
    if get(props, "vpcEndpointType", default="Gateway") == "Interface" and not truthy(get(props, "privateDnsEnabled")):
        yield f"the interface endpoint {get(props, 'serviceName')} has privateDnsEnabled off"


RULES = [
    StackRule(
        name="aws-vpc-flow-logs",
        description="Every VPC has flow logs that record ALL traffic.",
        remediation="keep network.flow_logs.enabled: true",
        category="security",
        types=(VPC,),
        check=flow_logs,
    ),
    StackRule(
        name="aws-vpc-private-subnet-no-internet-gateway",
        description="Private subnets do not route to the internet gateway.",
        remediation="route private subnets' 0.0.0.0/0 to a NAT gateway (or nowhere with nat: none)",
        category="security",
        types=(SUBNET,),
        check=private_routes,
    ),
    ResourceRule(
        name="aws-vpc-subnet-no-auto-public-ip",
        description="Subnets do not assign public IPs on launch.",
        remediation="leave mapPublicIpOnLaunch off; load balancers and NAT gateways get their own addresses",
        category="security",
        types=(SUBNET,),
        check=no_auto_public_ip,
    ),
    StackRule(
        name="aws-vpc-endpoints-without-nat",
        description="A VPC without NAT has the endpoints its services need (S3, ECR, logs and what secrets, exec and EC2 use).",
        remediation="keep network.endpoints: auto, or add the missing endpoints to the list",
        category="reliability",
        types=(VPC,),
        check=endpoints_without_nat,
        options={"requiredEndpoints": []},
        option_schema={"requiredEndpoints": {"type": "array", "items": {"type": "string"}}},
    ),
    ResourceRule(
        name="aws-vpc-endpoint-private-dns",
        description="Interface VPC endpoints have private DNS, so SDKs reach them by the usual names.",
        remediation="set privateDnsEnabled: true on the interface endpoint",
        category="reliability",
        types=(ENDPOINT,),
        check=private_dns,
    ),
]
