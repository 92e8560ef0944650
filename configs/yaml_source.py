"""Reads YAML into plain values plus the file and line of every path, refusing duplicate keys.

PyYAML's composer gives us nodes with marks; we build the values ourselves so that each
mapping key and list item keeps where it came from, and so that a repeated key is an error
instead of the silent last-one-wins of `yaml.safe_load`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from configs.errors import ConfigIssue

YamlPath = tuple[Any, ...]


@dataclass
class Source:
    """A document's values and, for every path into them, (file, line)."""

    data: Any
    locations: dict[YamlPath, tuple[str, int]] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)  # kept to report with validation's

    def location(self, path: YamlPath) -> tuple[str, int]:
        """Where a path was written, or its nearest written ancestor (for missing keys)."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(tuple(path[:end]))
            if found is not None:
                return found
        return ("", 0)


def format_path(path: YamlPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.constructor = yaml.constructor.SafeConstructor()
        self.locations: dict[YamlPath, tuple[str, int]] = {}
        self.issues: list[ConfigIssue] = []

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.locations.setdefault(path, (self.file, node.start_mark.line + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict:
        self.constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict = {}
        for key_node, value_node in node.value:
            key = self.constructor.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                self._issue(line, path, f"a mapping key must be a plain value, got {type(key).__name__}")
                continue
            if key in result:
                first = self.locations[path + (key,)][1]
                self._issue(line, path + (key,), f"duplicate key {key!r} (first set on line {first}); keep one")
                continue
            self.locations[path + (key,)] = (self.file, line)
            result[key] = self.build(value_node, path + (key,))
        return result

    def _issue(self, line: int, path: YamlPath, message: str) -> None:
        self.issues.append(ConfigIssue(self.file, line, format_path(path), message))


def read_yaml(path: Path, display_name: str) -> tuple[Source, list[ConfigIssue]]:
    """Parse one file. Syntax errors and duplicate keys come back as issues, never raised."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return Source(None), [ConfigIssue(display_name, 0, "", f"cannot read the file: {error.strerror}")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        problem = " ".join(part for part in (error.context, error.problem) if part)
        return Source(None), [ConfigIssue(display_name, line, "", f"not valid YAML: {problem}")]
    except yaml.YAMLError as error:
        return Source(None), [ConfigIssue(display_name, 0, "", f"not valid YAML: {error}")]
    if node is None:
        return Source({}, {(): (display_name, 1)}), []
    builder = _Builder(display_name)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        return Source(None), [ConfigIssue(display_name, line, "", f"not valid YAML: {error.problem}")]
    return Source(data, builder.locations), builder.issues


def deep_merge(base: Source, override: Source) -> Source:
    """`extends`: mappings merge key by key; lists and scalars of the override replace.

    Each merged path keeps the location of the file its value came from; a replaced
    subtree keeps none of the base's locations.
    """
    locations: dict[YamlPath, tuple[str, int]] = {}

    def take(source: Source, path: YamlPath) -> None:
        depth = len(path)
        locations.update({p: loc for p, loc in source.locations.items() if p[:depth] == path})

    def merge(low: Any, high: Any, path: YamlPath) -> Any:
        if not (isinstance(low, dict) and isinstance(high, dict)):
            take(override, path)
            return high
        locations[path] = override.locations.get(path) or base.locations.get(path, ("", 0))
        merged = dict(low)
        for key, value in high.items():
            if key in low:
                merged[key] = merge(low[key], value, path + (key,))
            else:
                merged[key] = value
                take(override, path + (key,))
        for key in low.keys() - high.keys():
            take(base, path + (key,))
        return merged

    return Source(merge(base.data, override.data, ()), locations)
