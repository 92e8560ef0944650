"""Loads `configs/<env>.yaml`: layering, validation, one report of every problem.

Nothing here touches Pulumi, so the loader runs the same under `pulumi up`, the offline plan
and the tests, and always before any resource is registered.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import functools
import logging
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Optional

import pydantic
from pydantic import BaseModel

from configs import clock, governance
from configs.checks import run_checks
from configs.limit_checks import unknown_instance_types
from configs import service_connect
from configs.storage_checks import unused_file_systems
from configs.endpoints import unreachable_apis
from configs.errors import ConfigError, ConfigIssue, excerpt
from configs.model import PATTERN_HINTS, EnvironmentConfig
from configs.yaml_source import Source, YamlPath, deep_merge, format_path, read_yaml

CONFIG_DIR = Path(__file__).resolve().parent
LOG = logging.getLogger("configs")


def config_path(environment: str) -> Path:
    return CONFIG_DIR / f"{environment}.yaml"


def load_environment(
    path: Path | str,
    *,
    stack: Optional[str] = None,
    today: Optional[datetime.date] = None,
) -> EnvironmentConfig:
    """The validated environment, or ConfigError listing every problem at once."""
    source = load_layered(Path(path))
    return validate(source, stack=stack, today=today or clock.today())


def load_or_exit(path: Path | str, *, stack: Optional[str] = None, today: Optional[datetime.date] = None) -> EnvironmentConfig:
    """For entry points (`__main__.py`, the offline plan): on bad input, print the report to
    stderr and exit with status 2, without a Python traceback."""
    try:
        return load_environment(path, stack=stack, today=today)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        raise SystemExit(2) from None


def load_layered(path: Path, _chain: tuple[Path, ...] = ()) -> Source:
    """Reads a file and, through `extends`, the files under it; merged, with locations."""
    resolved = path.resolve()
    name = _display_name(resolved)
    source, issues = read_yaml(resolved, name)
    if source.data is None and issues:  # unreadable or not YAML: nothing else can be checked
        raise ConfigError(issues)
    source.issues = issues
    if not isinstance(source.data, dict):
        file, line = source.location(())
        # What a scalar or a list holds does not matter: the file is not an environment file.
        raise ConfigError([ConfigIssue(file, line, "", "the file must be a mapping of sections (environment, aws, ...)")])
    if "extends" not in source.data:
        return source
    base_path = _base_path(source, resolved, (*_chain, resolved))
    base = load_layered(base_path, (*_chain, resolved))
    base.data.pop("extends", None)
    merged = deep_merge(base, source)
    merged.issues = base.issues + source.issues
    return merged


def _base_path(source: Source, resolved: Path, chain: tuple[Path, ...]) -> Path:
    """The file `extends` names, or ConfigError at the `extends` line.

    The file is data, not a program: `extends` names a YAML file inside the folder of the file
    that names it, so an environment file can never make the loader read (and a report echo)
    a file elsewhere on the machine: no absolute path, no `..`, no symlink that leads out.
    """
    base_name = source.data["extends"]
    file, line = source.location(("extends",))
    here = _display_name(resolved)

    def fail(message: str) -> ConfigError:
        return ConfigError(source.issues + [ConfigIssue(file, line, "extends", message)])

    if not isinstance(base_name, str) or not base_name.strip():
        raise fail(f"{_show(base_name)} is not a file name; use e.g. extends: base.yaml")
    shown = excerpt(base_name)
    parts = PurePosixPath(base_name.replace("\\", "/")).parts
    if base_name.startswith(("/", "\\")) or PureWindowsPath(base_name).drive:
        raise fail(f"{shown} is an absolute path; extends names a file in the folder of {here}, e.g. extends: base.yaml")
    if ".." in parts:
        raise fail(f"{shown} leaves the folder of {here} (..); extends names a file in that folder, e.g. extends: base.yaml")
    if PurePosixPath(base_name).suffix not in (".yaml", ".yml"):
        raise fail(f"{shown} is not a YAML file; extends names a .yaml file in the folder of {here}, e.g. extends: base.yaml")
    folder = resolved.parent
    base_path = (folder / base_name).resolve()
    if not base_path.is_relative_to(folder):
        raise fail(f"{shown} is a symbolic link to a file outside the folder of {here}; copy the file into the folder")
    if not base_path.is_file():
        raise fail(f"{shown} is not a file next to {here}; use e.g. extends: base.yaml")
    if base_path in chain:
        loop = " -> ".join(_display_name(p) for p in (*chain, base_path))
        raise fail(f"extends loops: {loop}; remove one link")
    return base_path


def validate(source: Source, *, stack: Optional[str], today: datetime.date) -> EnvironmentConfig:
    """Validates merged data; YAML-level issues (duplicate keys) are reported with the rest.

    One report holds every problem: when fields are wrong, the values that failed are set
    aside (a key with a default falls back to it; an entry missing a required key, such as a
    service without cpu, is left out) and the cross-field checks run on the rest. Their
    problems about what was set aside are dropped, since they would only echo the field error.
    """
    reported = {issue.path for issue in source.issues}
    governance_issues, moved = _governance_issues(source)
    data = {k: v for k, v in source.data.items() if k != "policy"} if isinstance(source.data, dict) else source.data
    try:
        config: Optional[EnvironmentConfig] = EnvironmentConfig.model_validate(data)
        schema_issues: list[ConfigIssue] = []
        set_aside = _SetAside()
    except pydantic.ValidationError as error:
        # A value the YAML layer already reported (an alias cycle) fails the schema too.
        schema_issues = [issue for issue in _pydantic_issues(error, source) if issue.path not in reported]
        config, set_aside = _validate_the_rest(data, error)
        if config is None:
            raise ConfigError(source.issues + governance_issues + [_issue_at(source, p, m) for p, m in moved] + schema_issues) from None
    problems = [*moved, *run_checks(config, today=today)]
    if not governance_issues:
        governance_issues = governance.waiver_problems(config.environment, today)
    if stack is not None and config.environment != stack:
        problems.append((("environment",), f"{config.environment!r} does not match the stack {stack!r}; "
                         f"stack {stack} reads configs/{stack}.yaml, whose environment must be {stack!r}"))
    # A value the YAML layer refused (an invisible character) is reported once, by that layer.
    problems = [
        (path, message) for path, message in problems
        if not set_aside.explains(path, message) and format_path(path) not in reported
    ]
    if problems or source.issues or schema_issues or governance_issues:
        raise ConfigError(source.issues + schema_issues + governance_issues + [_issue_at(source, path, message) for path, message in problems])
    for path, message in [*unknown_instance_types(config), *service_connect.warnings(config), *unused_file_systems(config),
                          *unreachable_apis(config)]:
        # Accepted, logged to stderr: AWS adds instance types faster than the table grows; what
        # Service Connect cannot do for a job, or a task short of the proxy's recommended CPU; an
        # unmounted file system, which may hold data (configs/storage_checks.py); an API a
        # NAT-less VPC has no endpoint for (configs/endpoints.py).
        LOG.warning("warning: %s", _issue_at(source, path, message))
    return config


def _governance_issues(source: Source) -> tuple[list[ConfigIssue], list[tuple[YamlPath, str]]]:
    """(problems of policies/governance.yaml itself, settings of this file that governance
    refuses: the old `policy:` section, requirements of the tier turned off)."""
    try:
        governance.load_governance()
    except ConfigError as error:
        return list(error.issues), []
    refused = list(governance.moved_keys(source.data))
    environment = source.data.get("environment") if isinstance(source.data, dict) else None
    if isinstance(environment, str):
        refused += governance.weakened_requirements(source.data, environment)
        refused += governance.production_floor(source.data, environment)
    return [], refused


# Passes of setting values aside: each pass can reveal the errors of a model whose own
# validators only run once its fields are valid.
_MAX_PASSES = 8
_GONE = object()  # marks a list item or key to remove


@dataclass
class _SetAside:
    """What the loader left out to run the cross-field checks on the rest."""

    paths: list[YamlPath] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # keys of whole entries left out (a service)

    def explains(self, path: YamlPath, message: str) -> bool:
        if any(path[: len(aside)] == aside for aside in self.paths):
            return True
        return any(f"'{name}'" in message for name in self.names)


def _validate_the_rest(data: Any, error: pydantic.ValidationError) -> tuple[Optional[EnvironmentConfig], _SetAside]:
    """The model of the data minus the values that failed, if a valid remainder exists."""
    pruned = copy.deepcopy(data)
    aside = _SetAside()
    for _ in range(_MAX_PASSES):
        for detail in error.errors(include_url=False):
            path = _yaml_path(detail["loc"], pruned, missing=detail["type"] == "missing")
            target = _what_to_set_aside(path, pruned)
            if target is None:
                return None, aside
            _mark_gone(pruned, target)
            if isinstance(target[-1], int):  # later items move up: set the whole list aside
                aside.paths.append(target[:-1])
            else:
                aside.paths.append(target)
                if _entry_of_a_mapping(target):
                    aside.names.add(str(target[-1]))
        pruned = _without_gone(pruned)
        try:
            return EnvironmentConfig.model_validate(pruned), aside
        except pydantic.ValidationError as next_error:
            error = next_error
    return None, aside


def _what_to_set_aside(path: YamlPath, data: Any) -> Optional[YamlPath]:
    """The deepest path at or above `path` that can go: a key with a default, an unknown key,
    or an entry of a mapping or list. None when only a required section could (aws)."""
    for end in range(len(path), 0, -1):
        candidate = path[:end]
        if not _exists(data, candidate):
            continue
        parent = _annotation_at(candidate[:-1])
        if _is_model(parent):
            fields = {(f.alias or name): f for name, f in parent.model_fields.items()}
            known = fields.get(candidate[-1])
            if known is None or not known.is_required():
                return candidate
        elif typing.get_origin(parent) in (dict, list):
            return candidate
    return None


def _entry_of_a_mapping(path: YamlPath) -> bool:
    return typing.get_origin(_annotation_at(path[:-1])) is dict


def _annotation_at(path: YamlPath) -> Any:
    annotation: Any = EnvironmentConfig
    for part in path:
        annotation = _unwrap(annotation, part)
        if annotation is None:
            return None
    return _unwrap(annotation, None)


def _exists(data: Any, path: YamlPath) -> bool:
    node = data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False
    return True


def _mark_gone(data: Any, path: YamlPath) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = _GONE


def _without_gone(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _without_gone(value) for key, value in data.items() if value is not _GONE}
    if isinstance(data, list):
        return [_without_gone(item) for item in data if item is not _GONE]
    return data


def _display_name(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _issue_at(source: Source, path: YamlPath, message: str) -> ConfigIssue:
    file, line = source.location(path)
    return ConfigIssue(file, line, format_path(path), message)


# ---------------------------------------------------------------------------------------------
# pydantic errors -> issues on YAML paths
# ---------------------------------------------------------------------------------------------

# Errors that only say "this union branch had another type"; dropped when a branch says more.
_BRANCH_MISMATCH = {"int_type", "int_parsing", "list_type", "literal_error", "string_type", "dict_type", "model_type", "bool_type"}


def _pydantic_issues(error: pydantic.ValidationError, source: Source) -> list[ConfigIssue]:
    by_path: dict[YamlPath, list[dict]] = {}
    for detail in error.errors(include_url=False):
        path = _yaml_path(detail["loc"], source.data, missing=detail["type"] == "missing")
        by_path.setdefault(path, []).append(detail)
    _drop_missing_explained_by_typos(by_path)
    _drop_branches_that_went_nowhere(by_path)
    issues = []
    for path, details in by_path.items():
        informative = [d for d in details if d["type"] not in _BRANCH_MISMATCH]
        chosen = informative or details
        if len(chosen) > 1 and not informative:
            message = " or ".join(dict.fromkeys(_message(d, path) for d in chosen))
            issues.append(_issue_at(source, path, message))
            continue
        for detail in chosen:
            issues.append(_issue_at(source, path, _message(detail, path)))
    return issues


def _drop_missing_explained_by_typos(by_path: dict[YamlPath, list[dict]]) -> None:
    """`memroy: 512` gives 'unknown key memroy' and 'missing memory': report only the first,
    whose did-you-mean already names the fix."""
    for path, details in list(by_path.items()):
        if not (path and all(d["type"] == "missing" for d in details)):
            continue
        siblings = [p for p, ds in by_path.items() if p[:-1] == path[:-1] and any(d["type"] == "extra_forbidden" for d in ds)]
        if any(_suggestion(p) == path[-1] for p in siblings):
            del by_path[path]


def _drop_branches_that_went_nowhere(by_path: dict[YamlPath, list[dict]]) -> None:
    """`endpoints: [s3, ecr]` fails the `auto` branch at endpoints and the list branch at
    endpoints[1]; the deeper error is the one the user meant, so the type mismatch goes."""
    for path, details in list(by_path.items()):
        if all(d["type"] in _BRANCH_MISMATCH for d in details) and any(
            len(other) > len(path) and other[: len(path)] == path for other in by_path
        ):
            del by_path[path]


def _yaml_path(loc: tuple, data: Any, *, missing: bool) -> YamlPath:
    """Keeps the parts of a pydantic location that exist in the YAML (drops union-branch tags)."""
    path: list[Any] = []
    node = data
    for part in loc:
        if part == "[key]":  # the key itself is bad: report it at the key
            break
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            path.append(part)
        elif missing and isinstance(node, dict) and part == loc[-1]:
            path.append(part)  # a missing key: name it, its line is the parent's
    return tuple(path)


def _message(detail: dict, path: YamlPath) -> str:
    kind = detail["type"]
    value = detail.get("input")
    if kind == "extra_forbidden":
        return _unknown_key(path)
    if kind == "missing":
        return f"missing required key {path[-1]!r}"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(detail["ctx"]["pattern"], f"it must match {detail['ctx']['pattern']}")
        return f"{excerpt(value)} is not valid: {hint}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _not_a_mapping(path, value)
    if kind == "list_type":
        return f"expected a list such as [a, b], got {_show(value)}"
    if kind == "string_type" and isinstance(value, (bool, int, float, datetime.date)):
        # YAML reads 4711, yes and 2027-01-01 as a number, a boolean and a date.
        return f"expected text, got {_show(value)} which YAML reads as a {_yaml_type(value)}; quote it: \"{value}\""
    message = detail["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind.startswith("value_error") or kind == "assertion_error":
        return message
    return f"{_lower(message)} (got {_show(value)})"


# Sections whose keys name AWS resources: a list here would name them by position.
_KEYED_SECTIONS = {"services", "repositories", "ec2", "tags", "environment", "secrets"}


def _not_a_mapping(path: YamlPath, value: Any) -> str:
    if isinstance(value, list) and path and path[-1] in _KEYED_SECTIONS:
        return (
            "expected a mapping keyed by name (name: {...}), got a list; names are stable identities, "
            "so adding or reordering an entry leaves the others untouched"
        )
    return f"expected a mapping (key: value), got {_show(value)}"


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, datetime.date):
        return "date"
    return "number"


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return excerpt(value)


def _unknown_key(path: YamlPath) -> str:
    key = path[-1]
    suggestion = _suggestion(path)
    if suggestion:
        return f"unknown key {excerpt(key)}; did you mean {suggestion!r}?"
    elsewhere = _sections_with_key().get(key) if isinstance(key, str) else None
    if elsewhere:
        return f"unknown key {excerpt(key)} here; it belongs under {' or '.join(elsewhere)}"
    return f"unknown key {excerpt(key)}; valid keys here: {', '.join(_valid_keys(path))}"


def _valid_keys(path: YamlPath) -> list[str]:
    model = _model_at(EnvironmentConfig, path[:-1])
    return sorted((f.alias or name) for name, f in model.model_fields.items()) if model else []


# How alike a typo and a key of the same section must be (difflib's ratio). 0.75 keeps
# memroy -> memory (0.83) and prot -> port (0.75) but not gpu -> cpu or sidecars -> secrets
# (0.67): keys that look alike and mean something else mislead more than they help.
_SUGGESTION_CUTOFF = 0.75


def _suggestion(path: YamlPath) -> Optional[str]:
    """A key of the same section (the model at the parent path) that the unknown key misspells."""
    close = difflib.get_close_matches(str(path[-1]), _valid_keys(path), n=1, cutoff=_SUGGESTION_CUTOFF)
    return close[0] if close else None


@functools.lru_cache(maxsize=1)
def _sections_with_key() -> dict[str, list[str]]:
    """key -> the sections that define it (services.<name>, logs, ...), to point a key written
    in the wrong section at the right one."""
    found: dict[str, list[str]] = {}

    def walk(model: type[BaseModel], where: str, seen: tuple) -> None:
        if model in seen:
            return
        for name, info in model.model_fields.items():
            key = info.alias or name
            found.setdefault(key, []).append(where or "the top level")
            for nested, suffix in _nested_models(info.annotation):
                walk(nested, f"{where}.{key}{suffix}" if where else f"{key}{suffix}", (*seen, model))

    walk(EnvironmentConfig, "", ())
    return found


def _nested_models(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """The models inside an annotation, with how their path continues: '' for a field,
    '.<name>' for mapping values, '[]' for list items."""
    origin = typing.get_origin(annotation)
    if _is_model(annotation):
        return [(annotation, "")]
    if origin is dict:
        return [(m, ".<name>" + rest) for m, rest in _nested_models(typing.get_args(annotation)[1])]
    if origin is list:
        return [(m, "[]" + rest) for m, rest in _nested_models(typing.get_args(annotation)[0])]
    return [found for arg in typing.get_args(annotation) for found in _nested_models(arg)]


def _model_at(model: type[BaseModel], path: YamlPath) -> Optional[type[BaseModel]]:
    """The model class that describes the mapping at a YAML path."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation, part)
        if annotation is None:
            return None
    annotation = _unwrap(annotation, None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any, part: Any) -> Any:
    """Steps into one YAML path part: a model field, a dict value or a list item."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = next((a for a in models if typing.get_origin(a) in (dict, list) or _is_model(a)), models[0])
        else:
            break
    if part is None:
        return annotation
    if _is_model(annotation):
        fields = {(f.alias or name): f for name, f in annotation.model_fields.items()}
        field = fields.get(part)
        return field.annotation if field else None
    origin = typing.get_origin(annotation)
    if origin is dict:
        return typing.get_args(annotation)[1]
    if origin is list:
        return typing.get_args(annotation)[0]
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
