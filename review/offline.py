"""Runs the real Pulumi program without AWS: the SDK's mocks plus a monitor that records
every registration (type, name, parent, inputs, options) exactly as the engine would get it.

Used by the offline plan, the policy verdict, the benchmarks and every component test.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc, settings

from configs.model import EnvironmentConfig
from review import lazy_aws

lazy_aws.install()  # before the program's first aws.<service>.<Class>: each loads only its module

PROJECT = "ecs-platform"
SECRET_MARKER = rpc._special_secret_sig  # the wire marker of a secret value
SIG_KEY = rpc._special_sig_key
DEFAULT_ACCOUNT = "123456789012"  # the mocks' account when the config names none


@dataclass(frozen=True)
class CapturedResource:
    """One registration as the engine receives it. `props` use wire (camelCase) names."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    props: dict[str, Any]
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    depends_on: tuple[str, ...] = ()
    # Input property (wire name) -> the URNs its value came from, as the engine receives them.
    # The pack's stack rules follow these first (review/policy_verdict.py sends them in
    # AnalyzeStack), exactly as under `pulumi preview`, where ids and ARNs are still unknown.
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    secret_paths: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # customTimeouts as the engine gets them: {"create": "30m", "update": "30m"}, empty ones left out.
    custom_timeouts: tuple[tuple[str, str], ...] = ()


@dataclass
class Plan:
    """What one run of the program registered, in registration order."""

    environment: str
    resources: list[CapturedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def by_urn(self) -> dict[str, CapturedResource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_: str) -> list[CapturedResource]:
        return sorted((r for r in self.resources if r.type == type_), key=lambda r: r.name)

    def named(self, name: str, type_: Optional[str] = None) -> CapturedResource:
        matches = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}" + (f" of type {type_}" if type_ else ""))
        return matches[0]

    def children_of(self, resource: CapturedResource) -> list[CapturedResource]:
        return sorted((r for r in self.resources if r.parent == resource.urn), key=lambda r: (r.type, r.name))

    def count_by_type(self, *, custom_only: bool = True) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.resources:
            if resource.custom or not custom_only:
                counts[resource.type] = counts.get(resource.type, 0) + 1
        return dict(sorted(counts.items()))


def unwrap_secrets(value: Any, path: str = "", found: Optional[list[str]] = None) -> Any:
    """Replaces secret marker dicts by their value, noting where secrets were."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_MARKER:
            if found is not None:
                found.append(path)
            return unwrap_secrets(value.get("value"), path, found)
        return {k: unwrap_secrets(v, f"{path}.{k}" if path else k, found) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps the whole RegisterResourceRequest of every resource."""

    def __init__(self, mocks: pulumi_mocks.Mocks, on_register: Optional[Callable[[CapturedResource], None]] = None):
        super().__init__(mocks)
        self.captured: list[CapturedResource] = []
        # Told of each resource as it is captured, in the order of `captured` (the SDK calls
        # the monitor from several executor threads, hence the lock).
        self._on_register = on_register
        self._order = threading.Lock()

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            captured = self._capture(request, response.urn)
            with self._order:
                self.captured.append(captured)
                if self._on_register is not None:
                    self._on_register(captured)
        return response

    def _capture(self, request, urn: str) -> CapturedResource:
        secret_paths: list[str] = []
        props = unwrap_secrets(rpc.deserialize_properties(request.object), found=secret_paths)
        return CapturedResource(
            type=request.type,
            name=request.name,
            urn=urn,
            parent=request.parent,
            custom=bool(request.custom),
            props=props,
            protect=bool(request.protect),
            ignore_changes=tuple(request.ignoreChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
            retain_on_delete=bool(request.retainOnDelete),
            depends_on=tuple(request.dependencies),
            property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
            secret_paths=tuple(secret_paths),
            aliases=tuple(alias_urn(alias, request, self.make_urn) for alias in request.aliases),
            custom_timeouts=_custom_timeouts(request),
        )


def alias_urn(alias, request, make_urn: Callable[[str, str, str], str]) -> str:
    """The URN an alias stands for: a plain URN as given, or a spec (any of name, type, parent;
    unset ones are the resource's own) made into a URN the way the monitor makes every URN, so
    the review's diff matches a moved resource with its old registration."""
    if alias.HasField("urn") or not alias.HasField("spec"):
        return alias.urn
    spec = alias.spec
    parent = spec.parentUrn or ("" if spec.noParent else request.parent)
    return make_urn(parent, spec.type or request.type, spec.name or request.name)


def _custom_timeouts(request) -> tuple[tuple[str, str], ...]:
    if not request.HasField("customTimeouts"):
        return ()
    timeouts = request.customTimeouts
    return tuple((kind, getattr(timeouts, kind)) for kind in ("create", "update", "delete") if getattr(timeouts, kind))


# Computed attributes the real provider returns, by resource type, that other resources read.
def _computed_state(type_: str, name: str, inputs: dict, account: str, region: str) -> dict:
    if not type_.startswith("aws:"):
        # pulumi-command's Command (a `before:` job's run): what the command printed.
        return {"stdout": "", "stderr": ""} if type_ == "command:local:Command" else {}
    service = type_.split(":")[1].split("/")[0]
    arn_region = "" if service == "iam" else region  # IAM is global: its ARNs have no region
    state: dict[str, Any] = {
        "arn": inputs.get("arn") or f"arn:aws:{service}:{arn_region}:{account}:{type_.split(':')[-1].lower()}/{name}",
    }
    if "name" not in inputs and not type_.startswith("aws:iam/rolePolicy"):
        state["name"] = name
    extra: dict[str, Callable[[], dict]] = {
        "aws:ecr/repository:Repository": lambda: {
            "repositoryUrl": f"{account}.dkr.ecr.{region}.amazonaws.com/{inputs.get('name', name)}",
            "registryId": account,
        },
        "aws:lb/loadBalancer:LoadBalancer": lambda: {
            "dnsName": f"{name}-{_short_hash(name)}.{region}.elb.amazonaws.com",
            "arnSuffix": f"app/{name}/{_short_hash(name)}",
            "zoneId": "Z32O12XQLNTSW2",
        },
        "aws:lb/targetGroup:TargetGroup": lambda: {"arnSuffix": f"targetgroup/{name}/{_short_hash(name)}"},
        "aws:ec2/vpc:Vpc": lambda: {"defaultSecurityGroupId": f"sg-{_short_hash(name + 'default')}"},
        "aws:ecs/cluster:Cluster": lambda: {"name": inputs.get("name", name)},
        # IAM ARNs have no region; an OIDC provider's ARN ends in its issuer's host.
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda: {
            "arn": f"arn:aws:iam::{account}:oidc-provider/{str(inputs.get('url', '')).removeprefix('https://')}"
        },
        "aws:cloudwatch/logGroup:LogGroup": lambda: {
            "arn": f"arn:aws:logs:{region}:{account}:log-group:{inputs.get('name', name)}"
        },
        "aws:kms/key:Key": lambda: {"keyId": _short_hash(name)},
        # ARNs in the service's own format (policies judge them by meaning).
        "aws:sfn/stateMachine:StateMachine": lambda: {"arn": f"arn:aws:states:{region}:{account}:stateMachine:{inputs.get('name', name)}"},
        "aws:sqs/queue:Queue": lambda: {"arn": f"arn:aws:sqs:{region}:{account}:{inputs.get('name', name)}", "url": f"https://sqs.{region}.amazonaws.com/{account}/{inputs.get('name', name)}"},
        "aws:efs/fileSystem:FileSystem": lambda: {"arn": f"arn:aws:elasticfilesystem:{region}:{account}:file-system/{mock_id(type_, name)}"},
        "aws:efs/accessPoint:AccessPoint": lambda: {"arn": f"arn:aws:elasticfilesystem:{region}:{account}:access-point/{mock_id(type_, name)}"},
        "aws:ec2/vpcEndpoint:VpcEndpoint": lambda: (
            {"prefixListId": f"pl-{_short_hash(name)[:8]}"} if inputs.get("vpcEndpointType") == "Gateway" else {}
        ),
    }
    if type_ in extra:
        state.update(extra[type_]())
    return state


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# Types whose mock id is a prefixed hash of the name, as AWS ids look; every other id is `<name>-id`.
MOCK_ID_PREFIXES = {
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:efs/fileSystem:FileSystem": "fs",
    "aws:efs/accessPoint:AccessPoint": "fsap",
}


def mock_id(type_: str, name: str) -> str:
    """The id the offline mocks assign to a resource (PlatformMocks.new_resource)."""
    prefix = MOCK_ID_PREFIXES.get(type_)
    return f"{prefix}-{_short_hash(name)}" if prefix else f"{name}-id"


class PlatformMocks(pulumi_mocks.Mocks):
    """Answers resources with their inputs plus the computed attributes used downstream, and
    invokes by token, as AWS would for the configured account and region."""

    def __init__(self, account_id: str, region: str, repositories: Optional[tuple[str, ...]] = None):
        self.account_id = account_id
        self.region = region
        # The ECR repository names the account already has; None: every repository the
        # program asks about exists (the invoke then answers no list at all).
        self.repositories = repositories

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        state = {**_computed_state(args.typ, args.name, args.inputs, self.account_id, self.region), **args.inputs}
        return mock_id(args.typ, args.name), state

    def call(self, args: pulumi_mocks.MockCallArgs):
        handler = self._invokes().get(args.token)
        if handler is None:
            raise NotImplementedError(f"the offline mocks do not answer the invoke {args.token}")
        return handler(args.args)

    def _invokes(self) -> dict[str, Callable[[dict], dict]]:
        region, account = self.region, self.account_id
        letters = "abc" if region != "us-east-1" else "abcdf"
        zones = [f"{region}{letter}" for letter in letters]
        return {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda _: {
                "names": zones,
                "zoneIds": [f"{region[:2]}{region.split('-')[1][:1]}{region[-1]}-az{i + 1}" for i in range(len(zones))],
                "id": region,
            },
            "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
                "accountId": account,
                "arn": f"arn:aws:iam::{account}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
                "id": account,
            },
            "aws:index/getRegion:getRegion": lambda _: {"name": region, "region": region, "id": region},
            "aws:ecr/getRepositories:getRepositories": lambda _: {
                **({} if self.repositories is None else {"names": list(self.repositories)}),
                "id": region,
                "region": region,
            },
            "aws:index/getPartition:getPartition": lambda _: {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
            },
            "aws:ssm/getParameter:getParameter": lambda a: {
                "name": a["name"],
                "value": f"ami-{_short_hash(a['name'])[:17]}",
                "type": "String",
                "id": a["name"],
                "arn": f"arn:aws:ssm:{region}::parameter{a['name']}",
            },
        }


@contextlib.contextmanager
def _quiet_garbage_collector():
    """Registration allocates many small, long-lived objects (asyncio tasks, futures); the
    default thresholds make the collector rescan them over and over, which made a run grow
    faster than linearly with the number of services (bench/bench_plan.py)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextlib.contextmanager
def _no_source_positions():
    """The SDK walks and formats the whole Python stack (traceback.extract_stack, reading source
    lines) for every registration, to send the engine each resource's source position. The
    engine shows it in its diagnostics; the monitor here records no stack trace, so under the
    mocks the walk is skipped: about a tenth of the program's time at 40 services
    (bench/bench_review.py)."""
    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _empty_stack_trace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


def _empty_stack_trace():
    return pulumi_resource.source_pb2.StackTrace()


def install_mocks(
    stack: str,
    account_id: str,
    region: str,
    *,
    preview: bool = False,
    repositories: Optional[tuple[str, ...]] = None,
    on_register: Optional[Callable[[CapturedResource], None]] = None,
) -> CapturingMonitor:
    """Points the (process-wide) Pulumi runtime at fresh mocks for one stack."""
    # The SDK keeps the root Stack resource across set_mocks calls; without a reset, a second
    # run in the same process would parent its resources to the first run's stack.
    settings.ROOT.set(None)
    mocks = PlatformMocks(account_id, region, repositories)
    monitor = CapturingMonitor(mocks, on_register)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    return monitor


def run_program(
    config: EnvironmentConfig,
    *,
    preview: bool = False,
    program: Optional[Callable[[EnvironmentConfig], dict[str, Any]]] = None,
    empty_account: bool = False,
    on_register: Optional[Callable[[CapturedResource], None]] = None,
) -> Plan:
    """Runs the program (by default the real one) for a validated environment under mocks.

    The mocked account already holds every ECR repository the program asks about (a stack's
    usual state), unless `empty_account`: the first `pulumi up` of a new account.
    `on_register` is called with each resource as the monitor captures it, in plan order."""
    from components.environment import create_environment, stack_outputs

    def real_program(cfg: EnvironmentConfig) -> dict[str, Any]:
        return stack_outputs(create_environment(cfg))

    run = program or real_program
    account = config.aws.account_id or DEFAULT_ACCOUNT
    repositories = () if empty_account else None
    monitor = install_mocks(
        config.environment, account, config.aws.region, preview=preview, repositories=repositories, on_register=on_register
    )
    plan = Plan(config.environment)

    @pulumi.runtime.test
    def execute():
        outputs = run(config)
        return pulumi.Output.from_input(outputs).apply(plan.outputs.update)

    with _quiet_garbage_collector(), _no_source_positions():
        execute()
    plan.resources = list(monitor.captured)
    return plan
