"""Reads YAML into plain values plus the file and line of every path, refusing duplicate keys.

PyYAML's composer (libyaml's, through yaml.CSafeLoader) gives us nodes with marks; we build the
values ourselves so that each mapping key and list item keeps where it came from, and so that a
repeated key is an error instead of the silent last-one-wins of `yaml.safe_load`.

The file is data, not a program: building the values ourselves is also where YAML 1.1's
surprises are refused with the fix (`05432` is octal 2842, `yes`/`on` are booleans, `22:22` is
base 60), where every tag but the standard ones is refused (`!!binary`, `!!python/...`, `!custom`),
and where invisible or control characters are refused (a zero-width space in an image reference,
a bidirectional control in a key).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from configs.errors import EXCERPT_CHARACTERS, ConfigIssue, excerpt

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
    """services.api.connects_to[0].port; a key that would be ambiguous is quoted: tags[""]; one
    with invisible characters shows them escaped ("ap\\u202ei"), a long one is cut."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part) and len(part) <= EXCERPT_CHARACTERS and not _INVISIBLE_IN_KEY.search(part):
            text += f".{part}" if text else part
        else:
            name = part if isinstance(part, str) else str(part)
            shown = json.dumps(name[:EXCERPT_CHARACTERS], ensure_ascii=bool(_INVISIBLE_IN_KEY.search(name)))
            text += f"[{shown}{'...' if len(name) > EXCERPT_CHARACTERS else ''}]"
    return text


# libyaml's composer: the same nodes and marks as PyYAML's pure-Python one, about 10x faster
# (bench/bench_loader.py measures both).
COMPOSER = yaml.CSafeLoader

# Aliases let a few lines expand into millions of values ("billion laughs"), and an alias
# inside its own anchor is an endless structure; an environment file needs neither.
MAX_VALUES = 100_000
MAX_DEPTH = 50


# An environment file is a few kilobytes; a huge one is a mistake or an attack (a 100 MB file
# took a minute to parse), so its size is checked before a byte is parsed.
MAX_FILE_BYTES = 1024 * 1024

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_YAML + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MAPPING_TAG, _SEQUENCE_TAG = _YAML + "map", _YAML + "seq"
_VALUE_TAG = _YAML + "value"  # a plain `=`: PyYAML's YAML 1.1 "default value" type; it is text

# What YAML 1.2 (and every reader of the file) takes for a number or a boolean.
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")
_DECIMAL_FLOAT = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$")

# Characters nobody sees in an editor or a review: C0/C1 controls (tab, newline and carriage
# return are allowed inside values), format characters (zero-width spaces and joiners, the
# bidirectional controls of "Trojan Source", the byte order mark, soft hyphen, Unicode tags),
# line/paragraph separators, variation selectors and the blank "filler" letters.
_INVISIBLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U000110bd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE_IN_VALUE = re.compile(f"[{_INVISIBLE}]")
_INVISIBLE_IN_KEY = re.compile(f"[{_INVISIBLE}\t\n\r]")


def invisible_character(text: str, *, key: bool = False) -> str | None:
    """A sentence naming the first invisible or control character of `text`, or None."""
    found = (_INVISIBLE_IN_KEY if key else _INVISIBLE_IN_VALUE).search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "a control character")
    return (
        f"contains U+{ord(char):04X} ({name}) at character {found.start() + 1}, which editors and "
        f"reviews do not show; retype the {'key' if key else 'value'} without it"
    )


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


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
        if node.tag not in (_MAPPING_TAG, _SEQUENCE_TAG):  # !!set, !!omap, !!pairs, !custom
            self._issue(line, path, _tag_refused(node.tag))
            return None
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

    def _scalar(self, node: yaml.Node, path: YamlPath, *, key: bool = False) -> Any:
        """The value of a scalar as YAML 1.2 reads it; YAML 1.1's other readings are issues."""
        line = node.start_mark.line + 1
        tag, text = node.tag, node.value
        if not isinstance(node, yaml.ScalarNode) or tag not in _SCALAR_TAGS | {_VALUE_TAG}:
            self._issue(line, path, _tag_refused(tag))
            return text if isinstance(text, str) else None
        if tag == _YAML + "bool":
            value, problem = _boolean(text)
        elif tag == _YAML + "int":
            value, problem = _integer(text)
        elif tag == _YAML + "float":
            value, problem = _float(text)
        elif tag == _YAML + "null":
            value, problem = None, None
        elif tag == _YAML + "timestamp":
            value, problem = self._timestamp(node), None
        elif node.style in (None, "") and _LEADING_ZERO.match(text):
            value, problem = _integer(text)  # `08080`: text in YAML 1.1 (not octal), 8080 in YAML 1.2
        else:
            value, problem = text, None
        if key and problem is not None and tag != _VALUE_TAG:
            # A key is a name: `on:` or `0042:` is the text the user wrote (as YAML 1.2 reads it).
            value, problem = text, None
        if problem is None and isinstance(value, str):
            problem = invisible_character(value, key=key)
        if problem is not None:
            self._issue(line, path, problem)
        return value

    def _timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.constructor.construct_yaml_timestamp(node)
        except (ValueError, TypeError, AttributeError, OverflowError):
            # `2027-13-01` resolves as a timestamp but is no date. The text goes on to
            # validation, which reports it against what the key expects.
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
            key = self._scalar(key_node, path + (str(key_node.value),), key=True)
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


def _tag_refused(tag: str) -> str:
    return (
        f"the tag {excerpt(short_tag(tag))} is not allowed: an environment file is data (text, decimal numbers, "
        "true/false, lists and mappings); remove the tag"
    )


def _boolean(text: str) -> tuple[Any, str | None]:
    """YAML 1.1 also reads yes/no/on/off (any case) as booleans; YAML 1.2 and JSON do not."""
    if text in ("true", "false"):
        return text == "true", None
    meant = text.lower() in ("true", "yes", "y", "on")
    return meant, (
        f"{excerpt(text)} is a boolean only in YAML 1.1; write {str(meant).lower()} (or quote it, \"{text}\", for text)"
    )


def _integer(text: str) -> tuple[Any, str | None]:
    """Decimal only: YAML 1.1 reads 0-prefixed numbers as octal, 0x/0b as hex/binary, `1_000`
    with its underscores and `22:22` as base 60."""
    if _DECIMAL_INT.match(text):
        return int(text), None
    digits = text.replace("_", "")
    sign = "-" if digits.startswith("-") else ""
    unsigned = digits.lstrip("+-")
    if ":" in unsigned:
        return text, (
            f"{excerpt(text)} is a base-60 number in YAML 1.1; quote it (\"{text}\") for text, or write the number in decimal"
        )
    if re.fullmatch(r"0[0-9]+", unsigned):
        decimal = f"{sign}{int(unsigned, 10)}"
        reading = f"octal {sign}{int(unsigned, 8)}" if re.fullmatch("0[0-7]+", unsigned) else "text"
        return int(decimal), (
            f"{excerpt(text)} has a leading zero (YAML 1.1 reads it as {reading}); numbers are decimal: "
            f"write {decimal} (or quote it, \"{text}\", for text)"
        )
    try:
        value = int(digits, 0)
    except ValueError:
        return text, f"{excerpt(text)} is not a decimal number; write it in digits 0-9"
    return value, f"{excerpt(text)} is not a decimal number; write {value}"


def _float(text: str) -> tuple[Any, str | None]:
    if _DECIMAL_FLOAT.match(text):
        return float(text), None
    return text, f"{excerpt(text)} is not a decimal number (YAML 1.1 reads it as one); write digits, or quote it for text"


def read_yaml(path: Path, display_name: str) -> tuple[Source, list[ConfigIssue]]:
    """Parse one file. Syntax errors and duplicate keys come back as issues, never raised."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Source(None), [_too_large(display_name, size)]
        with path.open("rb") as file:  # the size may change between stat and read
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return Source(None), [ConfigIssue(display_name, 0, "", f"cannot read the file: {error.strerror}")]
    if len(raw) > MAX_FILE_BYTES:
        return Source(None), [_too_large(display_name, len(raw))]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        return Source(None), [ConfigIssue(
            display_name, line, "", f"byte 0x{raw[error.start]:02x} is not UTF-8; save the file as UTF-8"
        )]
    try:
        node = yaml.compose(text, Loader=COMPOSER)
    except RecursionError:  # a composer that recurses once per nesting level
        return Source(None), [_too_deep(display_name)]
    except yaml.MarkedYAMLError as error:
        if "nesting depth" in str(error.problem):  # libyaml's own limit on nesting
            return Source(None), [_too_deep(display_name)]
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(part for part in (error.context, error.problem) if part)
        if mark and _character_at(text, mark) == "\t":
            problem += " (a tab; YAML indents with spaces)"
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
    except yaml.constructor.ConstructorError as error:  # a `<<` whose value is not a mapping
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        return Source(None), [ConfigIssue(display_name, line, "", f"not valid YAML: {error.problem}")]
    return Source(data, builder.locations), builder.issues


def _character_at(text: str, mark: yaml.Mark) -> str:
    lines = text.splitlines()
    return lines[mark.line][mark.column : mark.column + 1] if mark.line < len(lines) else ""


def _too_large(display_name: str, size: int) -> ConfigIssue:
    return ConfigIssue(
        display_name, 1, "",
        f"the file has {size} bytes, more than the {MAX_FILE_BYTES} (1 MiB) an environment file may have; "
        "it should be a few kilobytes: is it the right file?",
    )


def _too_deep(display_name: str) -> ConfigIssue:
    return ConfigIssue(
        display_name, 1, "", f"nested far deeper than {MAX_DEPTH} levels; no key of the environment file is that deep"
    )


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
