"""Shared test helpers: reference environments, edited variants, and plans under mocks."""

from __future__ import annotations

import copy
import datetime
from functools import lru_cache
from typing import Any, Callable

from configs.environments import environment_names
from configs.loader import config_path, load_environment, load_layered, validate
from configs.model import EnvironmentConfig
from configs.yaml_source import Source
from review.offline import Plan, run_program

# Every environment of the project (configs/<name>.yaml with a Pulumi.<name>.yaml): a user who
# adds one gets every per-environment test for it.
REFERENCE_ENVIRONMENTS = environment_names()
# Waiver expiry is judged against this day in tests, so the suite does not age.
TODAY = datetime.date(2026, 11, 26)


def reference_config(environment: str) -> EnvironmentConfig:
    return load_environment(config_path(environment), stack=environment, today=TODAY)


def reference_data(environment: str) -> dict[str, Any]:
    """The merged (extends applied) plain data of a reference file, to edit in a test."""
    return copy.deepcopy(load_layered(config_path(environment)).data)


def config_from_data(data: dict[str, Any]) -> EnvironmentConfig:
    return validate(Source(data), stack=None, today=TODAY)


def edited(environment: str, edit: Callable[[dict[str, Any]], None]) -> EnvironmentConfig:
    """A reference environment with one edit applied to its merged data."""
    data = reference_data(environment)
    edit(data)
    return config_from_data(data)


@lru_cache(maxsize=None)
def reference_plan(environment: str) -> Plan:
    """Plans are deterministic for a given file, so each reference plan is made once."""
    return run_program(reference_config(environment))


def plan_of(config: EnvironmentConfig) -> Plan:
    return run_program(config)
