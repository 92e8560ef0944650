"""The one error type of the environment file: every problem, with file, line and YAML path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

# A report shows a value, never the whole of it: a value may be huge, or another file's content.
EXCERPT_CHARACTERS = 80


def excerpt(value: Any, limit: int = EXCERPT_CHARACTERS) -> str:
    """repr() of a value, cut to `limit` characters of text with the full length noted."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}... ({len(text)} characters)"


@dataclass(frozen=True, order=True)
class ConfigIssue:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """Raised before any resource is registered; `report()` is what the user reads."""

    def __init__(self, issues: Iterable[ConfigIssue]):
        self.issues = sorted(set(issues))
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.issues)
        files = sorted({issue.file for issue in self.issues})
        header = f"{', '.join(files)}: {count} problem{'s' if count != 1 else ''} in the environment file; nothing was created."
        return "\n".join([header, *(f"  {issue}" for issue in self.issues)])
