"""Ids that only label a request or a response Bundle (never a resource).

``uuid.uuid4()`` reads the kernel's random source: a ``getrandom`` system call during which
the thread lets go of the GIL, and under load another request's thread takes it and the two
trade it back and forth. These ids must be unique, not unguessable, so they come from the
``random`` module's generator (which reseeds itself in every forked worker), in the form of
a version-4 UUID. Resource ids stay ``uuid.uuid4()``.
"""

from __future__ import annotations

import random
import uuid


def trace_id() -> str:
    """A new random id shaped like a UUID (version 4)."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))
