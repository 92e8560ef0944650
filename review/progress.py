"""Progress of long runs on stderr, so stdout stays the report (pipeable, PR-comment ready)."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO


class Progress:
    def __init__(self, stream: TextIO = sys.stderr, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        """`[  3.1s] planning dev ... done (5.2s)`; on a terminal the line is rewritten."""
        begin = time.monotonic()
        self._write(f"[{begin - self.started:5.1f}s] {text} ...", end="")
        yield
        self._write(f" done ({time.monotonic() - begin:.1f}s)")

    def _write(self, text: str, end: str = "\n") -> None:
        if self.enabled:
            self.stream.write(text + end)
            self.stream.flush()
