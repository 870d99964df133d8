"""Rules that cap a match at ``possible`` whatever its score: the combinations no sum of
independent field weights can tell apart from a typing error. A model file lists the rules
in force for its population (:attr:`app.domain.matching.model.Model.rules`).
"""

from __future__ import annotations

from collections.abc import Callable

from app.domain.matching.features import Agreement

Levels = dict[str, Agreement]
#: name → (what it says, when it applies). Each caps the grade at ``possible``.
RULES: dict[str, tuple[str, Callable[[Levels], bool]]] = {
    "given-name-differs": (
        "the given names differ beyond a typing error: another person (a sibling or twin "
        "in a household, a namesake elsewhere)",
        lambda levels: levels["given"].level in ("similar", "else")),
    "birth-date-differs": (
        "the birth dates differ beyond a typing error, a day/month swap or a nearby day: "
        "another person (a parent or child of the same name, a namesake)",
        lambda levels: levels["birth"].level in ("year", "else")),
}


