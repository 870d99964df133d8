"""What a client's Subscription may ask for: the limits of app/domain/limits.py hold."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.errors import BusinessRuleViolation
from app.domain.limits import (
    MAX_HEARTBEAT_SECONDS,
    MAX_SUBSCRIPTION_HEADER_LENGTH,
    MAX_SUBSCRIPTION_HEADERS,
)
from app.domain.subscriptions import parse_subscription
from tests.subscriptions.support import subscription

ENDPOINT = "http://127.0.0.1:9/hook"


def parse(body: dict[str, Any]) -> Any:
    return parse_subscription(body, ("http://127.0.0.1:",))


def test_headers_up_to_the_limit_are_kept_and_never_stored_in_the_resource() -> None:
    headers = [f"X-Key-{n}: {'v' * 10}" for n in range(MAX_SUBSCRIPTION_HEADERS)]
    request = parse(subscription("patient-merge", ENDPOINT, headers=headers))
    assert request.headers == tuple(headers)
    assert "header" not in request.resource["channel"]


@pytest.mark.parametrize("headers", [
    [f"X-Key-{n}: v" for n in range(MAX_SUBSCRIPTION_HEADERS + 1)],
    ["X-Key: " + "v" * MAX_SUBSCRIPTION_HEADER_LENGTH],
    ["X-Key: v\r\nX-Other: w"],
    ["no colon"],
    ["Host: elsewhere"],
])
def test_too_many_long_or_malformed_headers_are_refused(headers: list[str]) -> None:
    with pytest.raises(BusinessRuleViolation, match="channel.header"):
        parse(subscription("patient-merge", ENDPOINT, headers=headers))


@pytest.mark.parametrize("seconds", [1, MAX_HEARTBEAT_SECONDS])
def test_heartbeat_periods_within_the_limit_are_taken(seconds: int) -> None:
    assert parse(subscription("patient-merge", ENDPOINT, heartbeat=seconds)) \
        .heartbeat_seconds == seconds


def test_a_heartbeat_period_over_the_limit_is_refused() -> None:
    with pytest.raises(BusinessRuleViolation, match=str(MAX_HEARTBEAT_SECONDS)):
        parse(subscription("patient-merge", ENDPOINT, heartbeat=MAX_HEARTBEAT_SECONDS + 1))
