"""Copilot manifests as data, with the line of every key.

Copilot reads its manifests with Go's yaml.v3, i.e. YAML 1.2: `on:` (a Scheduled Job's
trigger) is the string "on", not the boolean PyYAML 1.1 makes of it, and only true/false are
booleans. So the documents are composed with PyYAML (which keeps each node's line) and every
scalar is typed here by YAML 1.2's core schema instead of PyYAML's resolvers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INTEGER = re.compile(r"^[-+]?[0-9]+$")
FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


class ManifestError(Exception):
    """A manifest that cannot be imported, with file:line and what to do."""


@dataclass
class Manifest:
    path: Path  # as shown in messages (relative to the workspace's parent)
    data: dict[str, Any]
    lines: dict[tuple, int] = field(default_factory=dict)  # YAML path -> line (1-based)
    environment: str | None = None  # set by for_environment: its `environments.<env>` overrides win

    def for_environment(self, environment: str) -> "Manifest":
        """The same manifest, reporting a field at its `environments.<env>` override when that
        environment sets it: the line a user must edit is the one that gave the value."""
        return Manifest(self.path, self.data, self.lines, environment)

    def line(self, *path: Any) -> int:
        """The line of the deepest known key along `path` (the document's first line otherwise),
        preferring the environment's override of it."""
        for end in range(len(path), 0, -1):
            if self.environment is not None and ("environments", self.environment, *path[:end]) in self.lines:
                return self.lines[("environments", self.environment, *path[:end])]
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def where(self, *path: Any) -> str:
        return f"{self.path}:{self.line(*path)}"


def load_manifest(path: Path, shown: Path) -> Manifest:
    try:
        node = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{shown}: cannot read the file: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{shown}{line}: not valid YAML: {getattr(error, 'problem', error)}") from None
    lines: dict[tuple, int] = {}
    data = _build(node, (), lines) if node is not None else {}
    if not isinstance(data, dict):
        raise ManifestError(f"{shown}:1: a Copilot manifest is a mapping (name, type, ...)")
    return Manifest(shown, data, lines)


def _build(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _build(value_node, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (index,), lines) for index, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style in ("'", '"', "|", ">"):
        return text
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if INTEGER.match(text):
        return int(text)
    if FLOAT.match(text):
        return float(text)
    return text
