"""Loads `configs/<env>.yaml`: layering, validation, one report of every problem.

Nothing here touches Pulumi, so the loader runs the same under `pulumi up`, the offline plan
and the tests, and always before any resource is registered.
"""

from __future__ import annotations

import datetime
import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, Optional

import pydantic
from pydantic import BaseModel

from configs.checks import run_checks
from configs.errors import ConfigError, ConfigIssue
from configs.model import PATTERN_HINTS, EnvironmentConfig
from configs.yaml_source import Source, YamlPath, deep_merge, format_path, read_yaml

CONFIG_DIR = Path(__file__).resolve().parent


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
    return validate(source, stack=stack, today=today or datetime.date.today())


def load_layered(path: Path, _chain: tuple[Path, ...] = ()) -> Source:
    """Reads a file and, through `extends`, the files under it; merged, with locations."""
    resolved = path.resolve()
    name = _display_name(resolved)
    if resolved in _chain:
        loop = " -> ".join(_display_name(p) for p in (*_chain, resolved))
        raise ConfigError([ConfigIssue(_display_name(_chain[-1]), 0, "extends", f"extends loops: {loop}; remove one link")])
    source, issues = read_yaml(resolved, name)
    if source.data is None:  # unreadable or not YAML: nothing else can be checked
        raise ConfigError(issues)
    source.issues = issues
    if not isinstance(source.data, dict):
        raise ConfigError([ConfigIssue(name, 1, "", "the file must be a mapping of sections (environment, aws, ...)")])
    base_name = source.data.get("extends")
    if base_name is None:
        return source
    if not isinstance(base_name, str) or not base_name.strip():
        file, line = source.location(("extends",))
        raise ConfigError([ConfigIssue(file, line, "extends", f"{base_name!r} is not a file name; use e.g. extends: base.yaml")])
    base_path = resolved.parent / base_name
    if not base_path.exists():
        file, line = source.location(("extends",))
        raise ConfigError([ConfigIssue(file, line, "extends", f"{base_name!r} does not exist next to {name}")])
    base = load_layered(base_path, (*_chain, resolved))
    base.data.pop("extends", None)
    merged = deep_merge(base, source)
    merged.issues = base.issues + source.issues
    return merged


def validate(source: Source, *, stack: Optional[str], today: datetime.date) -> EnvironmentConfig:
    """Validates merged data; YAML-level issues (duplicate keys) are reported with the rest."""
    try:
        config = EnvironmentConfig.model_validate(source.data)
    except pydantic.ValidationError as error:
        raise ConfigError(source.issues + _pydantic_issues(error, source)) from None
    problems = list(run_checks(config, today=today))
    if stack is not None and config.environment != stack:
        problems.append((("environment",), f"{config.environment!r} does not match the stack {stack!r}; "
                         f"stack {stack} reads configs/{stack}.yaml, whose environment must be {stack!r}"))
    if problems or source.issues:
        raise ConfigError(source.issues + [_issue_at(source, path, message) for path, message in problems])
    return config


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
        return f"{value!r} is not valid: {hint}"
    message = detail["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind.startswith("value_error") or kind == "assertion_error":
        return message
    return f"{_lower(message)} (got {_show(value)})"


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _unknown_key(path: YamlPath) -> str:
    key = path[-1]
    model = _model_at(EnvironmentConfig, path[:-1])
    valid = sorted((f.alias or name) for name, f in model.model_fields.items()) if model else []
    suggestion = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
    if suggestion:
        return f"unknown key {key!r}; did you mean {suggestion[0]!r}?"
    return f"unknown key {key!r}; valid keys here: {', '.join(valid)}"


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
