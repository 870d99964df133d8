"""A clerk-readable explanation of one ``$match`` score.

It names each field, whether it agreed, partly agreed, differed, was missing or was not used
(a protected person's withheld contact data), and what it contributed in bits (a bit doubles
or halves the odds), followed by the rules that capped the grade. It never quotes a value:
the candidate's own fields are in the returned resource, masked where they must be.
"""

from __future__ import annotations

from app.domain.matching.rules import RULES
from app.domain.matching.score import Assessment

FIELD_NAMES = {"family": "family name", "given": "given name", "birth": "birth date",
               "sex": "sex", "place": "address/telephone/e-mail"}
LEVEL_NAMES = {
    "exact": "same", "token": "one name part shared", "typo": "one typing error",
    "similar": "similar spelling", "swapped": "given and family name swapped",
    "transposed": "day and month swapped", "near": "within a week", "year": "same year only",
    "household": "same household (street address, telephone or e-mail)",
    "street": "same street, another house or flat number", "postal": "same postal code",
    "city": "same city", "county": "same county",
    "else": "different",
}
IDENTIFIER_TEXT = {
    "known": "an identifier of a known kind is the same",
    "opaque": "an identifier of another system is the same",
    "contradiction": "a different personnummer or samordningsnummer: another person",
}


def explanation(result: Assessment) -> str:
    """One line per assessment, e.g. ``family name: same (+5.4); given name: different
    (−6.6); …; capped at possible: the given names differ …``."""
    parts: list[str] = []
    for item in result.evidence:
        name = FIELD_NAMES[item.feature]
        if item.outcome in ("missing", "not used"):
            parts.append(f"{name}: {item.outcome}")
            continue
        level = LEVEL_NAMES.get(item.level or "", item.level or "")
        household = ", weighed within a household" if item.household else ""
        parts.append(f"{name}: {level}{household} ({item.bits:+.1f})")
    if result.identifier:
        parts.append(IDENTIFIER_TEXT[result.identifier])
    text = "; ".join(parts)
    for rule in result.rules:
        text += f"; capped at possible: {RULES[rule][0]}"
    return text
