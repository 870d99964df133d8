"""The application class: its cheaper ``ensure_sync`` answers as Flask's own does."""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask

from app.http import FhirFlask


def plain() -> str:
    return "plain"


async def coroutine() -> str:
    return "coroutine"


def _answer(app: Flask, func: Any) -> Any:
    try:
        return app.ensure_sync(func)
    except RuntimeError as error:  # Flask without its async extra refuses coroutines
        return type(error)


def test_ensure_sync_matches_flask_for_every_kind_of_callable() -> None:
    ours, flasks = FhirFlask(__name__), Flask(__name__)
    callables = [plain, coroutine, functools.partial(plain), functools.partial(coroutine),
                 lambda: None, print, functools.wraps(plain)(lambda: "wrapped")]
    for func in callables:
        mine, theirs = _answer(ours, func), _answer(flasks, func)
        assert (mine is func) == (theirs is func), func
        assert type(mine) is type(theirs), func
    assert ours.ensure_sync(plain) is plain
    assert _answer(ours, coroutine) is not coroutine  # wrapped, or refused without asgiref
