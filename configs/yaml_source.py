"""Reads YAML into plain values plus the file and line of every path, refusing duplicate keys.

PyYAML's composer gives us nodes with marks; we build the values ourselves so that each
mapping key and list item keeps where it came from, and so that a repeated key is an error
instead of the silent last-one-wins of `yaml.safe_load`.
"""

from __future__ import annotations

import json
import re
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


_PLAIN_KEY = re.compile(r"^[^\s.\[\]\"]+$")


def format_path(path: YamlPath) -> str:
    """services.api.connects_to[0].port; a key that would be ambiguous is quoted: tags[""]."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part if isinstance(part, str) else str(part))}]"
    return text


# Aliases let a few lines expand into millions of values ("billion laughs"), and an alias
# inside its own anchor is an endless structure; an environment file needs neither.
MAX_VALUES = 100_000
MAX_DEPTH = 50


class _TooLarge(Exception):
    """Aborts building a document that expands beyond MAX_VALUES."""


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.constructor = yaml.constructor.SafeConstructor()
        self.locations: dict[YamlPath, tuple[str, int]] = {}
        self.issues: list[ConfigIssue] = []
        self.open_nodes: set[int] = set()  # ids of the collections being built (alias cycles)
        self.count = 0
        self.from_merge: dict[YamlPath, bool] = {}

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        line = node.start_mark.line + 1
        self.locations.setdefault(path, (self.file, line))
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooLarge
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return self._scalar(node, path)
        if id(node) in self.open_nodes:
            self._issue(line, path, "an alias refers to the anchor it is inside of (an endless value); write the value out")
            return None
        if len(path) >= MAX_DEPTH:
            self._issue(line, path, f"nested deeper than {MAX_DEPTH} levels; no key of the environment file is that deep")
            return None
        self.open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        finally:
            self.open_nodes.discard(id(node))

    def _scalar(self, node: yaml.Node, path: YamlPath) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            raise  # unknown or unsafe tags: reported by read_yaml as not valid YAML
        except (ValueError, TypeError, AttributeError, OverflowError):
            # PyYAML resolves `2027-13-01` as a timestamp, then fails to build the date (the
            # same for explicit tags such as `!!int abc`). The text goes on to validation,
            # which reports it against what the key expects ("month value is outside 1-12").
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict:
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        # flatten_mapping puts the merged pairs first; keys written out may override those.
        merged = len(node.value) - explicit
        result: dict = {}
        for index, (key_node, value_node) in enumerate(node.value):
            line = key_node.start_mark.line + 1
            if isinstance(key_node, (yaml.MappingNode, yaml.SequenceNode)):
                what = "a mapping" if isinstance(key_node, yaml.MappingNode) else "a list"
                self._issue(line, path + (what,), f"a key must be a name, got {what}")
                continue
            key = self._scalar(key_node, path)
            if not isinstance(key, (str, int, float, bool)):
                what = "null" if key is None else f"a {type(key).__name__}"
                self._issue(line, path + (str(key_node.value),), f"a key must be a name, got {what}; quote it if it is one")
                continue
            if key in result and self.from_merge.get(path + (key,)):
                self._forget(path + (key,))  # a later key overrides one merged from an anchor
                del result[key]
            if key in result:
                first = self.locations[path + (key,)][1]
                self._issue(line, path + (key,), f"duplicate key {key!r} (first set on line {first}); keep one")
                continue
            self.locations[path + (key,)] = (self.file, line)
            self.from_merge[path + (key,)] = index < merged
            result[key] = self.build(value_node, path + (key,))
        return result

    def _forget(self, path: YamlPath) -> None:
        depth = len(path)
        for known in [p for p in self.locations if p[:depth] == path]:
            del self.locations[known]

    def _issue(self, line: int, path: YamlPath, message: str) -> None:
        self.issues.append(ConfigIssue(self.file, line, format_path(path), message))


def read_yaml(path: Path, display_name: str) -> tuple[Source, list[ConfigIssue]]:
    """Parse one file. Syntax errors and duplicate keys come back as issues, never raised."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        return Source(None), [ConfigIssue(display_name, 0, "", f"cannot read the file: {error.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        return Source(None), [ConfigIssue(
            display_name, line, "", f"byte 0x{raw[error.start]:02x} is not UTF-8; save the file as UTF-8"
        )]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        return Source(None), [ConfigIssue(
            display_name, 1, "", f"nested far deeper than {MAX_DEPTH} levels; no key of the environment file is that deep"
        )]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(part for part in (error.context, error.problem) if part)
        return Source(None), [ConfigIssue(display_name, line, "", f"not valid YAML: {problem}")]
    except yaml.YAMLError as error:
        return Source(None), [ConfigIssue(display_name, 1, "", f"not valid YAML: {error}")]
    if node is None:
        return Source({}, {(): (display_name, 1)}), []
    builder = _Builder(display_name)
    try:
        data = builder.build(node, ())
    except _TooLarge:
        return Source(None), [ConfigIssue(
            display_name, 1, "", f"expands to more than {MAX_VALUES} values (through aliases?); write the values out"
        )]
    except yaml.constructor.ConstructorError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
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
