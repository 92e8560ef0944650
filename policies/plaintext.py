"""Credentials in plain values: environment values, commands and entry points of every
container, user data of instances, String SSM parameters, and the container overrides a
schedule, an event target or a state machine passes to ECS. Names are judged by the
environment file's own rule (secretNamePattern, configs/checks.py); values by detect-secrets
(secret_values.py), which the config loader uses too."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Optional

from .ecs_task_definition import SECRET_NAME_PATTERN, TASK_DEFINITION
from .framework import ResourceRule, Settings
from .helpers import as_list, container_definitions, container_label, get, json_value
from .secret_values import user_data_text, value_problem, warm_up

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TYPES = (TASK_DEFINITION, LAUNCH_TEMPLATE, INSTANCE, LAUNCH_CONFIGURATION, SSM_PARAMETER, STATE_MACHINE, SCHEDULE, EVENT_TARGET)

# `NAME=value`, `export NAME="value"`, `NAME: value` in scripts and user data.
ASSIGNMENT = re.compile(r"""(?m)^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*["']?([^"'\s]+)""")

Value = tuple[str, Optional[str], str]  # (where, name or None, value)
# Assignments inside a scanned text: the text's own scan already found any credential in them,
# so they add only what their name tells (a high-entropy value or a secret-looking name).
ASSIGNED = " = "


def container_values(props: Mapping) -> Iterator[Value]:
    for container in container_definitions(props):
        label = container_label(container)
        for variable in as_list(container.get("environment")):
            if isinstance(variable, Mapping):
                name = str(variable.get("name", ""))
                yield f"{label} environment {name}", name, str(variable.get("value", ""))
        for field in ("command", "entryPoint"):
            words = [str(w) for w in as_list(container.get(field))]
            if words:
                yield f"{label} {field}", None, " ".join(words)
                yield from ((f"{label} {field}{ASSIGNED}{name}", name, value) for name, value in ASSIGNMENT.findall("\n".join(words)))
        check = [str(w) for w in as_list((container.get("healthCheck") or {}).get("command"))]
        if check:
            yield f"{label} healthCheck", None, " ".join(check)


def user_data_values(props: Mapping) -> Iterator[Value]:
    for field in ("userData", "userDataBase64"):
        raw = get(props, field)
        if raw:
            text = user_data_text(str(raw))
            yield field, None, text
            yield from ((f"{field}{ASSIGNED}{name}", name, value) for name, value in ASSIGNMENT.findall(text))


def override_values(props: Mapping, field: str) -> Iterator[Value]:
    """Every {name, value} pair (ECS container overrides' environment) and every string of a
    JSON document: a state machine definition, a schedule's or event target's input."""
    raw = get(props, *field.split("."))
    try:
        document = json_value(raw)
    except ValueError:
        document = raw
    yield from _walk(document, field)


def _walk(value: Any, where: str) -> Iterator[Value]:
    if isinstance(value, Mapping):
        keys = {str(k).lower(): v for k, v in value.items()}
        if isinstance(keys.get("name"), str) and isinstance(keys.get("value"), str):
            yield f"{where} environment {keys['name']}", keys["name"], keys["value"]
        for item in value.values():
            yield from _walk(item, where)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, where)
    elif isinstance(value, str):
        yield where, None, value


def parameter_values(props: Mapping) -> Iterator[Value]:
    kind = str(get(props, "type", default="String"))
    if kind == "SecureString":
        return
    name = str(get(props, "name", default="")).rsplit("/", 1)[-1]
    yield f"{kind} parameter {name}", name, str(get(props, "value", default="") or get(props, "insecureValue", default="") or "")


def values_of(props: Mapping, type_: str) -> Iterator[Value]:
    if type_ == TASK_DEFINITION:
        return container_values(props)
    if type_ in (LAUNCH_TEMPLATE, INSTANCE, LAUNCH_CONFIGURATION):
        return user_data_values(props)
    if type_ == SSM_PARAMETER:
        return parameter_values(props)
    field = {STATE_MACHINE: "definition", SCHEDULE: "target.input", EVENT_TARGET: "input"}[type_]
    return override_values(props, field)


def plaintext_credentials(props: Mapping, settings: Settings) -> Iterable[str]:
    names = re.compile(settings.option("secretNamePattern"))
    seen = set()
    for where, name, value in values_of(props, settings.resource_type):
        problem = value_problem(value, name)
        if problem and ASSIGNED in where and problem.startswith("holds a credential"):
            continue
        if problem is None and name and value and names.search(name) and settings.resource_type != TASK_DEFINITION:
            # Task definitions' names: aws-ecs-task-definition-no-plaintext-secrets.
            problem = "is named like a secret"
        if problem and (where, problem) not in seen:
            seen.add((where, problem))
            yield f"{where.replace(ASSIGNED, ' ')} {problem}"


RULES = [
    ResourceRule(
        name="aws-secrets-no-plaintext-values",
        description="No credential in a plain value: container environment, command and entry point, user data, String parameters, ECS overrides of schedules, event targets and state machines (detect-secrets).",
        remediation="store it in Secrets Manager or a SecureString parameter and reference it (services.<key>.secrets)",
        category="security",
        types=TYPES,
        check=plaintext_credentials,
        options={"secretNamePattern": SECRET_NAME_PATTERN},
        option_schema={"secretNamePattern": {"type": "string", "description": "Regex of secret-looking variable names."}},
    ),
]

warm_up()  # at import: the pack process starts once, then judges every resource
