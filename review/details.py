"""Each resource's inputs for `plan --details` and the plan's JSON, with secret values masked.

Masked: values the program marked secret (pulumi.Output.secret: the engine would show
`[secret]`), and values of secret-looking environment variable names inside container
definitions. JSON documents held in string inputs (IAM policies, trust policies, container
definitions) are shown parsed, so the task role's statements read as statements.
"""

from __future__ import annotations

import json
from typing import Any

from review.offline import CapturedResource
from review.semantic import MASK, looks_secret

SECRET = "[secret]"


def _mask_paths(value: Any, secret_paths: set[str], path: str = "") -> Any:
    if path in secret_paths:
        return SECRET
    if isinstance(value, dict):
        return {k: _mask_paths(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_paths(v, secret_paths, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _mask_environment(containers: Any) -> Any:
    if not isinstance(containers, list):
        return containers
    masked = []
    for container in containers:
        if isinstance(container, dict) and isinstance(container.get("environment"), list):
            variables = [
                {**v, "value": MASK} if isinstance(v, dict) and looks_secret(str(v.get("name", ""))) else v
                for v in container["environment"]
            ]
            container = {**container, "environment": variables}
        masked.append(container)
    return masked


def parsed_document(value: Any) -> Any:
    """A string input that holds a JSON object or list (a policy, container definitions), parsed."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def masked_inputs(resource: CapturedResource, *, parse_documents: bool = False) -> dict[str, Any]:
    """The resource's inputs as registered, secrets masked; with parse_documents, JSON held in
    strings is returned parsed."""
    inputs = _mask_paths(resource.props, set(resource.secret_paths))
    result = {}
    for key, value in inputs.items():
        document = parsed_document(value)
        if key == "containerDefinitions" and document is not value:
            masked = _mask_environment(document)
            value = masked if parse_documents else json.dumps(masked, separators=(",", ":"))
        elif parse_documents:
            value = document
        result[key] = value
    return result


def input_lines(resource: CapturedResource) -> list[str]:
    """`key: value` per input, documents pretty-printed over several lines."""
    lines = []
    for key, value in sorted(masked_inputs(resource, parse_documents=True).items()):
        if isinstance(value, (dict, list)) and len(json.dumps(value)) > 80:
            pretty = json.dumps(value, indent=2, sort_keys=True).splitlines()
            lines.append(f"{key}: {pretty[0]}")
            lines += pretty[1:]
        else:
            lines.append(f"{key}: {json.dumps(value, sort_keys=True) if not isinstance(value, str) else value}")
    return lines
