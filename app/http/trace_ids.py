"""Ids that only label a request or a response Bundle (never a resource).

``uuid.uuid4()`` reads the kernel's random source: a ``getrandom`` system call during which
the thread lets go of the GIL, and under load another request's thread takes it and the two
trade it back and forth. These ids must be unique, not unguessable, so they come from the
``random`` module's generator (which reseeds itself in every forked worker), in the form of
a version-4 UUID. Resource ids stay ``uuid.uuid4()``.
"""

from __future__ import annotations

import random

# The bits that make 128 random bits a version-4 UUID of the RFC 4122 variant (as uuid.UUID).
_KEEP = ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)


def trace_id() -> str:
    """A new random id shaped like a UUID (version 4)."""
    digits = "%032x" % (random.getrandbits(128) & _KEEP | _SET)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
