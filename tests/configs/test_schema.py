"""The checked-in JSON Schema is generated from the model, current, named by every environment
file, and accepts what the loader accepts in the reference environments."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from configs import schema
from configs.environments import environment_names
from configs.loader import CONFIG_DIR, load_layered

ENVIRONMENTS = environment_names()
SCHEMA_COMMENT = "# yaml-language-server: $schema=environment.schema.json"


def test_checked_in_schema_is_current() -> None:
    assert schema.SCHEMA_PATH.read_text() == schema.render(), "run: python -m configs.schema"


def test_check_mode_accepts_the_checked_in_schema() -> None:
    assert schema.main(["--check"]) == 0


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_files_name_the_schema_for_editors(environment: str) -> None:
    assert (CONFIG_DIR / f"{environment}.yaml").read_text().splitlines()[0] == SCHEMA_COMMENT


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
