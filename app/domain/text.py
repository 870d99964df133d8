"""Folding of strings for search: case- and accent-insensitive (Å→a, Ö→o, É→e)."""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """Lower-case ``value`` and strip diacritics, keeping letters, digits and spacing.

    >>> fold("Åsa Öberg-Élan")
    'asa oberg-elan'
    """
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
