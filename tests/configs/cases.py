"""Shared helpers for the environment-file tests: write YAML into a directory, load it, read
the report. `today` is fixed so waiver expiry does not depend on the day the suite runs."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Optional

from configs.errors import ConfigError
from configs.loader import CONFIG_DIR, load_environment

TODAY = datetime.date(2026, 11, 26)  # tests.harness.TODAY: the day the whole suite judges on
REFERENCE_FILES = ("base.yaml", "dev.yaml", "staging.yaml", "prod.yaml")


def issue_lines(path: Path, *, stack: Optional[str] = None) -> list[str]:
    """The report's issue lines (file:line: path: message) for a file that must fail."""
    try:
        load_environment(path, stack=stack, today=TODAY)
    except ConfigError as error:
        return [str(issue) for issue in error.issues]
    raise AssertionError(f"{path} loaded without problems")


def copy_reference_files(directory: Path) -> None:
    for name in REFERENCE_FILES:
        shutil.copy(CONFIG_DIR / name, directory / name)


def replace_once(path: Path, old: str, new: str) -> int:
    """Replaces the one occurrence of `old`; returns the 1-based line where it started."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new))
    return line


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the one line that contains `needle`."""
    lines = [number for number, text in enumerate(path.read_text().splitlines(), 1) if needle in text]
    assert len(lines) == 1, f"{needle!r} is on lines {lines} of {path.name}"
    return lines[0]
