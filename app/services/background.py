"""Background work of a server process: a daemon thread that runs until told to stop."""

from __future__ import annotations

import threading
from collections.abc import Callable


def start_daemon(name: str, run: Callable[[threading.Event], None]) -> threading.Event:
    """Run ``run(stop)`` in a daemon thread called ``name``; return ``stop``, the event that
    asks it to end (the subscription deliverer, the bulk exporter)."""
    stop = threading.Event()
    threading.Thread(target=run, args=(stop,), name=name, daemon=True).start()
    return stop
