"""app/progress.py: a periodic line when the output is not a terminal (issue 15)."""

from __future__ import annotations

import io

from app.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_every_period_with_count_rate_and_time_left() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress(1000, "loading", out, done=100, every=10.0, clock=clock) as progress:
        clock.now += 2
        progress.update(100)  # the first line at once
        clock.now += 5
        progress.update(100)  # within the period: nothing
        clock.now += 5
        progress.update(100)
    lines = out.getvalue().splitlines()
    assert lines == [
        "loading: 200 of 1,000 (20.0 %), 50/s, 0:00:02 elapsed, ETA 0:00:16",
        "loading: 400 of 1,000 (40.0 %), 25/s, 0:00:12 elapsed, ETA 0:00:24",
    ]


def test_a_last_line_at_the_end_unless_just_shown() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress(10, "exporting", out, every=10.0, clock=clock) as progress:
        clock.now += 1
        progress.update(4)
        clock.now += 1
        progress.update(6)
    assert out.getvalue().splitlines()[-1] == (
        "exporting: 10 of 10 (100.0 %), 5/s, 0:00:02 elapsed, ETA 0:00:00")
    assert len(out.getvalue().splitlines()) == 2
