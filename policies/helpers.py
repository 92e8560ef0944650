"""Helpers every rule shares: reading props that may be unknown, policy documents, ARNs.

Props reach rules as plain camelCase data (the wrapper in `framework.py` unwraps the SDK's
proxy). During `pulumi preview` any value computed by another resource (an ARN, an id, a
JSON document built with `Output.json_dumps`) is the sentinel string below. Every read goes
through `get`, which raises `Unknown` when the value, or anything inside it, is such a
sentinel: a rule never mistakes a sentinel for a real value, and the wrapper turns `Unknown`
into one advisory that names the resource and the property.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

try:  # the SDK's private proxy classes; sdk_fastpath hands out a lazily built _DictProxy subclass
    from pulumi_policy.proxy import _DictProxy, _ListProxy
except ImportError:  # another SDK layout (and no fast path): nothing is a proxy of these
    _DictProxy = type("_DictProxy", (), {})
    _ListProxy = type("_ListProxy", (), {})

from .sdk_fastpath import shared_plain

SENTINELS = frozenset(
    {
        UNKNOWN_STRING_VALUE,  # 04da6b54-80e4-46f7-96ec-b56ff0331ba9, the one previews show for strings
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
    }
)
_MISSING = object()


class Unknown(UnknownValueError):
    """A value a rule needs is not known until apply. Subclasses the SDK's error so an
    uncaught one still becomes the SDK's advisory, never a crash."""

    def __init__(self, path: Iterable[Any]):
        super().__init__(UNKNOWN_STRING_VALUE, [str(p) for p in path])
        self.path = ".".join(str(p) for p in path)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in SENTINELS


def unknown_path(value: Any, path: tuple = ()) -> Optional[tuple]:
    """The path of the first sentinel inside value, or None when it is fully known."""
    if is_unknown(value):
        return path
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = unknown_path(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unknown_path(item, (*path, index))
            if found is not None:
                return found
    return None


_LEAVES = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """Deep copy of SDK proxies (or plain data) as dicts and lists, sentinels kept as strings."""
    # Exact-type shortcuts first: props are mostly scalars, dicts and lists, and the ABC
    # checks below cost more than the copy. Subclasses still take the general path.
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {key: plain(item) for key, item in value.items()}
    if kind is list:
        return [plain(item) for item in value]
    # sdk_fastpath's lazy proxy, untouched: its source, copied once per request (see there).
    source = getattr(value, "unread_source", None)
    if source is not None:
        return shared_plain(source, plain)
    if isinstance(value, Mapping):
        target = value["__target"] if isinstance(value, _DictProxy) else value
        return {key: plain(item) for key, item in target.items()}
    if isinstance(value, _ListProxy):
        return [plain(item) for item in value["__target"]]
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def is_secrets_manager(reference: str) -> bool:
    """Whether a task's secret reference (valueFrom) names a Secrets Manager secret; the
    other kind is an SSM parameter."""
    return ":secretsmanager:" in reference


def get(obj: Any, *path: Any, default: Any = None) -> Any:
    """obj[path...] or default when absent; raises Unknown when any part is unknown."""
    current = obj
    for depth, key in enumerate(path):
        if is_unknown(current):
            raise Unknown(path[:depth])
        if isinstance(current, Mapping):
            current = current.get(key, _MISSING)
        elif isinstance(current, list) and isinstance(key, int) and -len(current) <= key < len(current):
            current = current[key]
        else:
            current = _MISSING
        if current is _MISSING or current is None:
            return default
    inner = unknown_path(current)
    if inner is not None:
        raise Unknown((*path, *inner))
    return current


def peek(obj: Any, *path: Any) -> Any:
    """Like get, but returns None for unknown values: for linking resources, where an
    unknown id simply means 'link by dependency instead'."""
    try:
        return get(obj, *path)
    except Unknown:
        return None


def has(obj: Any, key: str) -> bool:
    """Whether a property is set at all (known or not) without reading it."""
    return isinstance(obj, Mapping) and obj.get(key) is not None


def items(obj: Any, *path: Any) -> list:
    """A list-valued property ([] when absent); a single object counts as a one-item list."""
    value = get(obj, *path, default=[])
    return list(value) if isinstance(value, list) else [value]


def truthy(value: Any) -> bool:
    """Booleans arrive as bools, or as strings where the provider schema says string
    (launch template `ebs.encrypted`, `associatePublicIpAddress`)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def number(value: Any, default: float = 0) -> float:
    """Numbers come back from the wire as floats (or strings in some schemas)."""
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def json_value(value: Any) -> Any:
    """A JSON document given as a string (the usual wire form) or already as data.
    Returns None for an absent value; raises ValueError for a string that is not JSON."""
    if value is None or isinstance(value, (dict, list)):
        return value
    return _parsed_json(value)


@functools.lru_cache(maxsize=256)
def _parsed_json(text: str) -> Any:
    """json.loads memoised by content: CrossGuard runs every policy on a resource in turn, and
    several read the same document (IAM policies, containerDefinitions, defaultTags). Keyed by
    the text itself, so it cannot go stale; rules only read the result, never mutate it.
    Errors are not cached, so a bad document raises for every caller."""
    return json.loads(text)


def as_list(value: Any) -> list:
    """IAM and ECR policy fields hold either one value or a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# The member names of ECS's ContainerDefinition and the structures it nests (botocore's ECS
# model; tests/policies/test_containers.py keeps this list equal to it). The provider decodes
# containerDefinitions with Go's encoding/json, which matches keys case-insensitively, so
# "User" or "READONLYROOTFILESYSTEM" reach ECS as user / readonlyRootFilesystem; the rules read
# the canonical names.
CONTAINER_FIELDS = (
    "add", "appProtocol", "capabilities", "command", "condition", "containerName", "containerPath", "containerPort",
    "containerPortRange", "cpu", "credentialSpecs", "credentialsParameter", "dependsOn", "devices", "disableNetworking",
    "dnsSearchDomains", "dnsServers", "dockerLabels", "dockerSecurityOptions", "drop", "enabled", "entryPoint",
    "environment", "environmentFiles", "essential", "extraHosts", "firelensConfiguration", "hardLimit", "healthCheck",
    "hostPath", "hostPort", "hostname", "ignoredExitCodes", "image", "initProcessEnabled", "interactive", "interval",
    "ipAddress", "links", "linuxParameters", "logConfiguration", "logDriver", "maxComputePercent", "maxSwap", "memory",
    "memoryReservation", "mountOptions", "mountPoints", "name", "namespace", "nvidiaMps", "options", "permissions",
    "portMappings", "privileged", "protocol", "pseudoTerminal", "readOnly", "readonlyRootFilesystem",
    "repositoryCredentials", "resourceRequirements", "restartAttemptPeriod", "restartPolicy", "retries", "secretOptions",
    "secrets", "sharedMemorySize", "sharingStrategy", "size", "softLimit", "sourceContainer", "sourceVolume",
    "startPeriod", "startTimeout", "stopTimeout", "swappiness", "systemControls", "timeout", "tmpfs", "type", "ulimits",
    "user", "value", "valueFrom", "versionConsistency", "volumesFrom", "workingDirectory",
)
_CANONICAL = {name.casefold(): name for name in CONTAINER_FIELDS}
_USER_KEYED = frozenset({"dockerLabels", "options"})  # maps whose keys are the user's, not ECS's


def canonical_keys(value: Any) -> Any:
    """Container definition data with ECS's member names, matched as Go matches them. When two
    spellings of one key appear, the later one wins, as in Go's decoder."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            name = _CANONICAL.get(str(key).casefold(), key)
            result[name] = item if name in _USER_KEYED else canonical_keys(item)
        return result
    if isinstance(value, list):
        return [canonical_keys(item) for item in value]
    return value


def container_definitions(props: Mapping) -> list[dict]:
    """The task definition's containers, every one of them (sidecars too), with canonical keys;
    [] when `containerDefinitions` cannot be read (aws-ecs-task-definition-valid-containers
    reports that)."""
    value = get(props, "containerDefinitions")
    if not isinstance(value, str):
        return [c for c in canonical_keys(value) if isinstance(c, dict)] if isinstance(value, list) else []
    return list(_canonical_containers(value))


@functools.lru_cache(maxsize=256)
def _canonical_containers(text: str) -> tuple[dict, ...]:
    """Parsed and canonicalised once per document text; rules only read the result."""
    try:
        parsed = _parsed_json(text)
    except ValueError:
        return ()
    if not isinstance(parsed, list):  # ECS takes a list; an object is rejected, not one container
        return ()
    return tuple(c for c in canonical_keys(parsed) if isinstance(c, dict))


def containers_problem(props: Mapping) -> Optional[str]:
    """Why `containerDefinitions` is not a JSON list of container objects, or None."""
    value = get(props, "containerDefinitions")
    try:
        parsed = json_value(value)
    except ValueError:
        return "containerDefinitions is not JSON, so its containers cannot be judged"
    if not isinstance(parsed, list):
        return f"containerDefinitions is a JSON {type(parsed).__name__}, not a list of containers"
    if not parsed:
        return "containerDefinitions has no containers"
    bad = [str(i) for i, c in enumerate(parsed) if not isinstance(c, dict)]
    if bad:
        return f"containerDefinitions entries {', '.join(bad)} are not container objects"
    return None


def capabilities(container: Mapping, kind: str) -> list[str]:
    """A container's linuxParameters.capabilities `add` or `drop` list ([] when unset)."""
    linux = container.get("linuxParameters") or {}
    return [str(c) for c in as_list((linux.get("capabilities") or {}).get(kind))]


def container_label(container: Mapping) -> str:
    return f"container {container.get('name', '?')!r}"
