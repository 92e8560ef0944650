"""The policy pack's verdict, obtained exactly as `pulumi preview --policy-pack` obtains it.

Starts policies/__main__.py as a subprocess, reads the port it prints, and speaks the
Analyzer gRPC protocol: GetAnalyzerInfo, Configure (merged and expanded as the CLI does),
Analyze per custom resource and AnalyzeStack once. Used by the plan command and the tests.

    with PolicyPackClient() as pack:
        pack.configure(json.loads(Path("policies/config/prod.json").read_text()))
        verdict = pack.analyze(resources)   # Resource, or review.offline CapturedResource
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Optional, Sequence

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = ROOT / "policies"
PROJECT = "ecs-platform"
LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVEL_NAMES.items()}


class PolicyPackError(RuntimeError):
    """The pack could not be started or did not answer: says why, with the pack's stderr."""


def read_line(stream: IO[bytes], timeout: float) -> Optional[str]:
    """The first line a child process writes to `stream`, or None when none comes in time
    (or the stream ends first). Reads the raw descriptor, so a line is never stuck in our own
    buffer either."""
    deadline = time.monotonic() + timeout
    fd, data = stream.fileno(), b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return data.decode(errors="replace").strip() or None
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()


@dataclass(frozen=True)
class Resource:
    """One resource as the engine describes it to analyzers. Props use wire (camelCase) names."""

    type: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    parent: str = ""  # the parent's URN
    urn: str = ""  # derived from the parent chain when empty
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    custom: bool = True
    provider_props: Optional[Mapping[str, Any]] = None


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # advisory | mandatory
    resource: str  # the resource's name ("" for the stack as a whole)
    urn: str
    message: str  # the pack's message: description, newline, "<resource>: <problem>. Fix: <hint>"


@dataclass(frozen=True)
class Verdict:
    violations: tuple[Violation, ...]
    not_applicable: tuple[tuple[str, str, str], ...]  # (policy, resource, reason): waivers, skips

    @property
    def mandatory(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.level == "mandatory")

    @property
    def passed(self) -> bool:
        return not self.mandatory

    def summary(self) -> list[tuple[str, str, str]]:
        """Sorted (policy, level, resource): the shape tests and the plan command compare."""
        return sorted((v.policy, v.level, v.resource) for v in self.violations)


class PolicyPackClient:
    """A running policy pack. Start once, configure as often as needed, analyze many times."""

    # Analyze calls outstanding at once. The pack serves 4 at a time (pulumi-policy's server
    # pool) and evaluates under one GIL; a few more keep it busy while answers travel back.
    max_in_flight = 32

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable, stack: str = "dev"):
        self.pack_dir = Path(pack_dir)
        self.python = python
        self.stack = stack
        self._process: Optional[subprocess.Popen] = None
        self._stderr: Optional[IO[bytes]] = None
        self._channel: Optional[grpc.Channel] = None
        self._stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None
        # AnalyzeStack sent as an already serialized request (StackAnalysis builds it entry by entry).
        self._analyze_stack_serialized: Optional[grpc.UnaryUnaryMultiCallable] = None
        self.info: Optional[analyzer_pb2.AnalyzerInfo] = None
        # Analyze is a pure function of (configuration, request): identical requests under an
        # identical configuration are answered from here (tests resend one stack many times).
        self._configured: Optional[dict] = None
        self._answers_by_config: dict[str, dict[bytes, analyzer_pb2.AnalyzeResponse]] = {}
        self._answers: dict[bytes, analyzer_pb2.AnalyzeResponse] = {}
        # What the last analyze() did: Analyze RPCs sent, answers taken from the cache.
        self.last_stats = AnalyzeStats()

    # ---- lifecycle ---------------------------------------------------------------------

    # How long the pack may take to print its port (it imports pulumi-policy and the rules).
    start_timeout = 60.0

    def start(self) -> "PolicyPackClient":
        return self.spawn().connect()

    def spawn(self) -> "PolicyPackClient":
        """Starts the pack's process without waiting for it: its start-up (about a second of
        imports) then overlaps whatever the caller does next, such as running the program."""
        if self._process is not None:
            return self
        # pulumi-policy writes the port with sys.stdout.buffer.write and never flushes: on a
        # pipe, without an unbuffered interpreter, the line stays in the pack's buffer and a
        # reader waits forever. The Pulumi CLI starts packs unbuffered; so do we, explicitly
        # (`-u` and the variable), whatever the caller's environment says.
        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty pack never blocks
        self._process = subprocess.Popen(
            [self.python, "-u", str(self.pack_dir / "__main__.py"), *self._clock_arguments()],
            cwd=self.pack_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        return self

    def connect(self) -> "PolicyPackClient":
        """Waits for the spawned pack's port and opens the channel (once)."""
        if self._stub is not None:
            return self
        line = read_line(self._process.stdout, timeout=self.start_timeout)
        if line is None or not line.isdigit():
            problem = (
                f"did not print its port within {self.start_timeout:.0f} s"
                if line is None
                else f"printed {line[:80]!r} instead of its port"
            )
            stderr = self._stderr_tail()
            self.close()
            raise PolicyPackError(f"the policy pack ({self.pack_dir}) {problem}" + (f"; its stderr ends:\n{stderr}" if stderr else ""))
        self._channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(self._channel).result(timeout=10)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._analyze_stack_serialized = self._channel.unary_unary(
            _method_path("AnalyzeStack"), response_deserializer=analyzer_pb2.AnalyzeResponse.FromString
        )
        self.info = self._stub.GetAnalyzerInfo(empty_pb2.Empty())
        return self

    @staticmethod
    def _clock_arguments() -> list[str]:
        """`--today DAY` when tests froze the project's clock, so the pack judges waiver
        expiry on the same day as the loader; nothing otherwise (the real date)."""
        from configs import clock

        day = clock.frozen_day()
        return ["--today", day.isoformat()] if day is not None else []

    def _stderr_tail(self, limit: int = 4000) -> str:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:].strip()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "PolicyPackClient":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.close()

    # ---- protocol ----------------------------------------------------------------------

    def configure(self, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Sends Configure as the CLI does and returns the effective config it sent.

        Every policy gets an entry (Configure replaces the whole map): its own default level,
        then the pack's initial config, then `all` from the file, then the file's own entry;
        the schema's defaults fill properties the file leaves out."""
        effective = merged_config(self.info, config)
        if effective == self._configured:
            return effective
        self._configured = effective
        self._answers = self._answers_by_config.setdefault(json.dumps(effective, sort_keys=True), {})
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in effective.items():
            policy_config = request.policyConfig[name]
            policy_config.enforcementLevel = LEVEL_VALUES[entry["enforcementLevel"]]
            properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            if properties:
                policy_config.properties.update(properties)
        self._stub.Configure(request)
        return effective

    def analyze(self, resources: Iterable[Any]) -> Verdict:
        """Analyze for each custom resource, then AnalyzeStack with all of them."""
        described = [as_resource(r) for r in resources]
        urns = _urns(described, self.stack)
        analysis = self.analysis()
        for resource in described:
            analysis.add(resource, urns[id(resource)])
        return analysis.finish()

    def analysis(self) -> "StackAnalysis":
        """One stack's verdict, built resource by resource (under the current configuration):
        the Analyze of each resource is sent when it is added, so the pack can judge it while
        the caller is still producing the next ones."""
        return StackAnalysis(self)


class StackAnalysis:
    """Analyze for each custom resource as it is added; AnalyzeStack with all of them at the end.

    The Analyze calls are pipelined: up to `max_in_flight` are outstanding at once (gRPC
    futures), so building the next requests here overlaps the pack's evaluation in its own
    process. Responses are consumed in resource order, so the verdict (and the order of its
    violations) is the same as with one blocking call after the other."""

    def __init__(self, client: PolicyPackClient):
        self._client = client
        self._stub = client._stub
        self._answers = client._answers  # the cache of the configuration in force
        self._window = max(1, int(client.max_in_flight))
        self.stats = client.last_stats = AnalyzeStats()
        # Per custom resource: (name, urn, its answer or the key of an answer in flight).
        self._custom: list[tuple[str, str, Any]] = []
        self._in_flight: dict[bytes, grpc.Future] = {}  # insertion order = submission order
        # The AnalyzeStack request, serialized one entry at a time: a serialized message is the
        # concatenation of its fields, so the joined entries parse as the request that lists
        # every resource in order (protobuf's merge of repeated fields), while each entry's
        # properties are kept as bytes, not as a second tree of Struct messages.
        self._stack_request: list[bytes] = []
        self._names: dict[str, str] = {}  # URN -> name, for the stack policies' diagnostics

    def add(self, resource: Resource, urn: str) -> None:
        self._names[urn] = resource.name
        if not resource.custom:
            return
        analyze_request, stack_resource = _requests(resource, urn)
        self._stack_request.append(stack_request_entry(stack_resource))
        key = analyze_request.SerializeToString(deterministic=True)
        cached = self._answers.get(key)
        if cached is not None:
            self.stats.cache_hits += 1
            self._custom.append((resource.name, urn, cached))
            return
        self._custom.append((resource.name, urn, key))
        if key in self._in_flight:  # the same request earlier in this stack: asked once
            self.stats.cache_hits += 1
            return
        if len(self._in_flight) >= self._window:
            self._settle(next(iter(self._in_flight)))
        self._in_flight[key] = self._stub.Analyze.future(analyze_request)
        self.stats.analyze_calls += 1

    def finish(self) -> Verdict:
        stack_future = self._send_analyze_stack(b"".join(self._stack_request))
        try:
            while self._in_flight:
                self._settle(next(iter(self._in_flight)))
        except BaseException:
            stack_future.cancel()
            raise
        violations: list[Violation] = []
        not_applicable: list[tuple[str, str, str]] = []
        for name, urn, answer in self._custom:
            response = self._answers[answer] if isinstance(answer, bytes) else answer
            violations += _violations(response, fallback=(name, urn))
            not_applicable += [(n.policy_name, name, n.reason) for n in response.not_applicable]
        response = stack_future.result()
        violations += _violations(response, names=self._names)
        not_applicable += [(n.policy_name, "", n.reason) for n in response.not_applicable]
        return Verdict(tuple(violations), tuple(not_applicable))

    def _send_analyze_stack(self, request: bytes) -> "grpc.Future":
        send = self._client._analyze_stack_serialized
        if send is None:  # a client without a channel of its own (tests/policies/in_process.py)
            return self._stub.AnalyzeStack.future(analyzer_pb2.AnalyzeStackRequest.FromString(request))
        return send.future(request)

    def abandon(self) -> None:
        """Cancels what is still in flight (the caller gave up on this stack)."""
        for future in self._in_flight.values():
            future.cancel()
        self._in_flight.clear()

    def _settle(self, key: bytes) -> None:
        """Waits for one outstanding Analyze and records its answer (in the cache)."""
        future = self._in_flight[key]
        try:
            self._answers[key] = future.result()
        except BaseException:
            self.abandon()
            raise
        del self._in_flight[key]


@dataclass
class AnalyzeStats:
    """Counters of one analyze() call: Analyze RPCs sent, cached answers."""

    analyze_calls: int = 0
    cache_hits: int = 0


# ---- the CLI's config merge --------------------------------------------------------------


def merged_config(info: analyzer_pb2.AnalyzerInfo, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    initial = {k: _config_entry(json_format.MessageToDict(v, preserving_proto_field_name=True)) for k, v in info.initialConfig.items()}
    file_all = _level_only(config.get("all"))
    result: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        entry = {"enforcementLevel": LEVEL_NAMES[policy.enforcementLevel]}
        entry.update(_schema_defaults(policy.configSchema))
        entry.update(initial.get(policy.name, {}))
        entry.update(file_all)
        entry.update(_normalize(config.get(policy.name)))
        result[policy.name] = entry
    return result


def _normalize(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"enforcementLevel": value}
    return dict(value)


def _level_only(value: Any) -> dict[str, Any]:
    # `all` sets only the enforcement level of every policy.
    normalized = _normalize(value)
    return {"enforcementLevel": normalized["enforcementLevel"]} if "enforcementLevel" in normalized else {}


def _config_entry(raw: Mapping[str, Any]) -> dict[str, Any]:
    entry = dict(raw.get("properties", {}))
    if "enforcementLevel" in raw:
        entry["enforcementLevel"] = str(raw["enforcementLevel"]).lower()
    return entry


def _schema_defaults(schema: analyzer_pb2.PolicyConfigSchema) -> dict[str, Any]:
    properties = json_format.MessageToDict(schema.properties) if schema.properties else {}
    return {k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v}


# ---- requests and responses ----------------------------------------------------------------


def as_resource(value: Any) -> Resource:
    """A Resource from itself, or from review.offline's CapturedResource (same field names)."""
    if isinstance(value, Resource):
        return value
    return Resource(
        type=value.type,
        name=value.name,
        props=value.props,
        parent=value.parent or "",
        urn=value.urn,
        dependencies=tuple(getattr(value, "depends_on", ()) or ()),
        property_dependencies=dict(getattr(value, "property_dependencies", None) or {}),
        custom=bool(getattr(value, "custom", True)),
    )


def _urns(resources: list[Resource], stack: str) -> dict[int, str]:
    """Each resource's URN: given, or built like the engine's from the parent's type chain."""
    by_name = {r.urn or r.name: r for r in resources}
    result: dict[int, str] = {}

    def urn_of(resource: Resource) -> str:
        if resource.urn:
            return resource.urn
        parent = by_name.get(resource.parent)
        chain = (_type_chain(urn_of(parent)) + "$" if parent is not None else "") + resource.type
        return f"urn:pulumi:{stack}::{PROJECT}::{chain}::{resource.name}"

    for resource in resources:
        result[id(resource)] = urn_of(resource)
    return result


def _type_chain(urn: str) -> str:
    return urn.split("::")[2]


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    # Struct.update is protobuf's own dict -> Struct conversion: the same message as
    # json_format.ParseDict for JSON data (None, bool, number, str, list, dict), ~4x faster.
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def _options(resource: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(parent=resource.parent)


def _provider(resource: Resource) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
    if resource.provider_props is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws", properties=_struct(resource.provider_props), urn="", name="default"
    )


def _requests(resource: Resource, urn: str) -> tuple[analyzer_pb2.AnalyzeRequest, analyzer_pb2.AnalyzerResource]:
    """The resource's Analyze request and its AnalyzeStack entry, its properties converted once."""
    properties = _struct(resource.props)
    options = _options(resource)
    provider = _provider(resource)
    analyze = analyzer_pb2.AnalyzeRequest(
        type=resource.type, properties=properties, urn=urn, name=resource.name, options=options, provider=provider
    )
    stack = analyzer_pb2.AnalyzerResource(
        type=resource.type,
        properties=properties,
        urn=urn,
        name=resource.name,
        options=options,
        provider=provider,
        parent=resource.parent,
        dependencies=list(resource.dependencies),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(value))
            for key, value in resource.property_dependencies.items()
        },
    )
    return analyze, stack


def stack_request_entry(resource: analyzer_pb2.AnalyzerResource) -> bytes:
    """One resource's part of a serialized AnalyzeStackRequest: joined in order, the entries
    are the serialized request listing those resources."""
    return analyzer_pb2.AnalyzeStackRequest(resources=[resource]).SerializeToString()


def _method_path(method: str) -> str:
    """The gRPC path of one of the Analyzer service's methods, from its descriptor."""
    service = analyzer_pb2.DESCRIPTOR.services_by_name["Analyzer"]
    return f"/{service.full_name}/{service.methods_by_name[method].name}"


def _violations(response, *, fallback: tuple[str, str] = ("", ""), names: Optional[Mapping[str, str]] = None) -> list[Violation]:
    result = []
    for d in response.diagnostics:
        urn = d.urn or fallback[1]
        name = (names or {}).get(urn, fallback[0] if not d.urn else "")
        result.append(Violation(d.policyName, LEVEL_NAMES[d.enforcementLevel], name, urn, d.message))
    return result
