"""The repeat limits of a Patient (app/domain/limits.py): each element up to its limit is
accepted and one more is refused, naming where and the limit."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.errors import LimitExceeded
from app.domain.limits import (
    DEFAULT_MAX_REPEATS,
    MAX_REPEATED_ITEMS,
    MAX_REPEATS,
    check_repeats,
)


def nested(path: str, count: int) -> tuple[dict[str, Any], str]:
    """A resource holding ``count`` items at ``path`` (``name.given``: in the first name)
    and the FHIRPath of that list."""
    *parents, last = path.split(".")
    resource: dict[str, Any] = {last: [{"x": n} for n in range(count)]}
    where = last
    for parent in reversed(parents):
        resource = {parent: [resource]}
        where = f"{parent}[0].{where}"
    return resource, f"Patient.{where}"


@pytest.mark.parametrize("path", sorted(MAX_REPEATS))
def test_each_element_takes_its_limit_and_no_more(path: str) -> None:
    limit = MAX_REPEATS[path]
    check_repeats(nested(path, limit)[0])
    resource, where = nested(path, limit + 1)
    with pytest.raises(LimitExceeded) as refused:
        check_repeats(resource)
    assert refused.value.message == (f"{where} has {limit + 1} items; this server accepts "
                                     f"at most {limit}")
    assert refused.value.expression == [where]


def test_primitive_extensions_count_as_their_element() -> None:
    limit = MAX_REPEATS["name.given"]
    with pytest.raises(LimitExceeded, match=r"Patient\.name\[0\]\._given has"):
        check_repeats({"name": [{"given": ["A"], "_given": [None] * (limit + 1)}]})


def test_any_other_repeating_element_takes_the_default() -> None:
    check_repeats({"contact": [{"telecom": [{}] * DEFAULT_MAX_REPEATS}]})
    with pytest.raises(LimitExceeded, match=r"^Patient\.meta\.security has"):
        check_repeats({"meta": {"security": [{}] * (DEFAULT_MAX_REPEATS + 1)}})
    with pytest.raises(LimitExceeded, match=r"^Patient\.extension\[2\]\.extension has"):
        check_repeats({"extension": [{}, {}, {"extension": [{}] * (DEFAULT_MAX_REPEATS + 1)}]})


def test_all_repeating_elements_together_have_a_limit() -> None:
    per_contact = MAX_REPEATED_ITEMS // MAX_REPEATS["contact"]
    full = {"contact": [{"telecom": [{}] * (per_contact - 1)}] * MAX_REPEATS["contact"]}
    check_repeats(full)
    with pytest.raises(LimitExceeded) as refused:
        check_repeats({**full, "telecom": [{}]})
    assert refused.value.message == (
        f"Patient has {MAX_REPEATED_ITEMS + 1} items in its repeating elements together; "
        f"this server accepts at most {MAX_REPEATED_ITEMS}")


def test_a_long_list_is_named_before_what_the_items_of_another_hold() -> None:
    resource = {"name": [{"given": ["A"] * 21}], "telecom": [{}] * 101}
    with pytest.raises(LimitExceeded, match=r"^Patient\.telecom has 101"):
        check_repeats(resource)
