"""An NDJSON file read where it lies: the lines of a bulk load's source, on demand.

A national population is some 10 M lines, about 4 GB. Read into memory, decoded and split
into lines, it took three times that in the loading process (and in every worker forked
from it). :class:`NdjsonLines` maps the file instead and keeps only where each line begins
and ends (16 bytes a line): the operating system pages the file in as the load reads it and
drops the pages when memory is wanted elsewhere.
"""

from __future__ import annotations

import mmap
import os
from array import array
from collections.abc import Sequence
from typing import Any, overload

from app.domain.text import parse_json

#: Lines are separated by ``\n`` (an ``\r`` before it is JSON whitespace, kept in the line).
_NEWLINE = b"\n"
_OPEN_BRACE = ord("{")


class NdjsonLines(Sequence[bytes]):
    """The non-blank lines of the file at ``path``, in order, each as ``bytes`` (without its
    line break). The file must not change while the object is in use."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as handle:
            # An empty file cannot be mapped; it has no lines either.
            self.content: bytes | mmap.mmap = (
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                if os.fstat(handle.fileno()).st_size else b"")
        self._starts = array("q")
        self._ends = array("q")
        self._index()

    def _index(self) -> None:
        """Record where each non-blank line begins and ends (one pass over the file)."""
        content, starts, ends = self.content, self._starts, self._ends
        size, start = len(content), 0
        while start < size:
            end = content.find(_NEWLINE, start)
            if end < 0:
                end = size
            # Almost every line of a resource begins with its brace: no copy to look at it.
            if content[start] == _OPEN_BRACE or content[start:end].strip():
                starts.append(start)
                ends.append(end)
            start = end + 1

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, at: int) -> bytes: ...

    @overload
    def __getitem__(self, at: slice) -> list[bytes]: ...

    def __getitem__(self, at: int | slice) -> bytes | list[bytes]:
        if isinstance(at, slice):
            return [self.content[start:end]
                    for start, end in zip(self._starts[at], self._ends[at], strict=True)]
        return self.content[self._starts[at]:self._ends[at]]

    def line_number(self, at: int) -> int:
        """The line of the file (from 1, blank lines counted) that line ``at`` is."""
        return self.content[:self._starts[at]].count(_NEWLINE) + 1


class ParsedLines(Sequence[Any]):
    """The lines of :class:`NdjsonLines`, each parsed as JSON when it is read (the load one
    statement at a time, which checks every line before it starts and then reads them
    batch by batch: the parsed file is never held whole)."""

    def __init__(self, lines: NdjsonLines) -> None:
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, at: int) -> Any: ...

    @overload
    def __getitem__(self, at: slice) -> list[Any]: ...

    def __getitem__(self, at: int | slice) -> Any:
        if isinstance(at, slice):
            return [parse_json(line) for line in self.lines[at]]
        return parse_json(self.lines[at])
