"""The checked-in JSON Schema is generated from the model, current, named by every environment
file, and accepts what the loader accepts in the reference environments."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import re

import jsonschema
import pytest
import yaml

from configs import schema
from configs.environments import environment_names
from configs.loader import CONFIG_DIR, load_layered
from configs.yaml_source import read_yaml

ENVIRONMENTS = environment_names()
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(?P<name>[\w.-]+\.json)$")
SHIPPED_FILES = sorted(path.name for path in CONFIG_DIR.glob("*.yaml"))


def test_checked_in_schemas_are_current() -> None:
    for path, text in schema.rendered_files().items():
        assert path.read_text() == text, "run: python -m configs.schema"


def test_check_mode_accepts_the_checked_in_schema() -> None:
    assert schema.main(["--check"]) == 0


def named_schema(file: str) -> str:
    """The schema file a YAML file's first line names for the YAML language server."""
    match = SCHEMA_LINE.match((CONFIG_DIR / file).read_text().splitlines()[0])
    assert match, f"{file} does not start with a yaml-language-server $schema line"
    return match["name"]


def layered_files() -> set[str]:
    """Files that extend another, and the files they extend: alone, each is partial."""
    layered = set()
    for file in SHIPPED_FILES:
        base = yaml.safe_load((CONFIG_DIR / file).read_text()).get("extends")
        if base:
            layered |= {file, base}
    return layered


@pytest.mark.parametrize("file", SHIPPED_FILES)
def test_each_shipped_file_names_the_schema_of_its_kind(file: str) -> None:
    expected = schema.LAYERED_SCHEMA_PATH if file in layered_files() else schema.SCHEMA_PATH
    assert named_schema(file) == expected.name


@pytest.mark.parametrize("file", SHIPPED_FILES)
def test_each_shipped_file_validates_against_the_schema_it_names(file: str) -> None:
    """As an editor checks the file on its own, without what it extends."""
    document_schema = json.loads((CONFIG_DIR / named_schema(file)).read_text())
    own = read_yaml(CONFIG_DIR / file, file)[0].data
    assert schema_errors(document_schema, own) == []


def keys_named(name: str, node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == name:
                yield value
            yield from keys_named(name, value)
    elif isinstance(node, list):
        for item in node:
            yield from keys_named(name, item)


def test_the_layered_schema_requires_nothing_and_still_refuses_unknown_keys() -> None:
    layered = schema.layered_schema()
    assert not list(keys_named("required", layered))
    assert list(keys_named("required", schema.environment_schema()))
    assert schema_errors(layered, {"services": {"api": {"user": "10001"}}}) == []
    assert schema_errors(layered, {"services": {"api": {"memroy": 512}}}) == [
        "services.api: Additional properties are not allowed ('memroy' was unexpected)"
    ]


def as_json(value: Any) -> Any:
    """What a YAML language server hands the validator: dates become ISO strings."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def validator(document_schema: dict) -> Any:
    return jsonschema.Draft202012Validator(document_schema, format_checker=jsonschema.FormatChecker())


def schema_errors(document_schema: dict, data: Any) -> list[str]:
    errors = validator(document_schema).iter_errors(as_json(data))
    return sorted(f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in errors)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_merged_reference_environment_validates(environment: str) -> None:
    merged = load_layered(CONFIG_DIR / f"{environment}.yaml").data
    assert schema_errors(schema.environment_schema(), merged) == []


def test_partial_base_file_validates_without_required_keys() -> None:
    # base.yaml is never loaded alone: it lacks environment and aws, and only those.
    partial = {key: value for key, value in schema.environment_schema().items() if key != "required"}
    base = load_layered(CONFIG_DIR / "base.yaml").data
    assert schema_errors(partial, base) == []
    assert schema_errors(schema.environment_schema(), base) == [
        ": 'aws' is a required property",
        ": 'environment' is a required property",
    ]


def test_schema_rejects_what_editors_should_flag() -> None:
    data = json.loads(json.dumps(as_json(load_layered(CONFIG_DIR / "dev.yaml").data)))
    data["services"]["api"]["memroy"] = data["services"]["api"].pop("memory")
    data["network"]["nat"] = "two"
    assert schema_errors(schema.environment_schema(), data) == [
        "network.nat: 'two' is not one of ['none', 'single', 'per_az']",
        "services.api: 'memory' is a required property",
        "services.api: Additional properties are not allowed ('memroy' was unexpected)",
    ]
