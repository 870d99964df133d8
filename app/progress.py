"""Progress of long command-line work: a bar on a terminal, a periodic line otherwise.

A load of a million Patients runs for minutes, often under a scheduler or with its output
in a log file, where a progress bar is one endless line of carriage returns. When the
stream is not a terminal, :class:`Progress` writes one line every ``every`` seconds — how
many of how many, the rate of this run and the time left at that rate — and one at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TextIO

import click

#: Seconds between two progress lines when not on a terminal.
EVERY = 10.0


@dataclass
class Progress:
    """Progress of ``total`` units of work, ``done`` of them done before this run."""

    total: int
    label: str
    stream: TextIO
    done: int = 0
    every: float = EVERY
    clock: Callable[[], float] = time.monotonic
    _bar: Any = None
    _started: float = 0.0
    _first: int = 0
    _shown: float = field(default=float("-inf"))
    _shown_done: int = -1

    def __enter__(self) -> Progress:
        self._started = self.clock()
        self._first = self.done
        if self.stream.isatty():
            self._bar = click.progressbar(length=self.total, label=self.label, file=self.stream,
                                          show_pos=True, show_eta=True)
            self._bar.__enter__()
            self._bar.update(min(self.done, self.total))
        return self

    def update(self, covered: int) -> None:
        """``covered`` more units are done."""
        self.done += covered
        if self._bar is not None:
            self._bar.update(covered)
        elif self.clock() - self._shown >= self.every:
            self._line()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
        elif exc_type is None and self.done != self._shown_done:
            self._line()

    def line(self) -> str:
        """The progress line: done of total, the share, this run's rate and the time left."""
        elapsed = max(self.clock() - self._started, 1e-9)
        rate = (self.done - self._first) / elapsed
        left = self.total - self.done
        eta = _duration(left / rate) if rate > 0 else "unknown"
        share = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.label}: {self.done:,} of {self.total:,} ({share:.1f} %), "
                f"{rate:,.0f}/s, {_duration(elapsed)} elapsed, ETA {eta}")

    def _line(self) -> None:
        self._shown, self._shown_done = self.clock(), self.done
        click.echo(self.line(), file=self.stream)


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
