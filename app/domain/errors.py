"""Domain errors. Each carries a FHIR issue code (never an HTTP status): the one error
handler in ``app.http.errors`` maps the class to the status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the server reports to a client as an OperationOutcome."""

    code = "processing"
    #: The OperationOutcome issue's severity (``error`` unless a profile says otherwise).
    severity = "error"

    def __init__(self, message: str, *, expression: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression or []


class InvalidRequest(DomainError):
    """The request cannot be understood: bad syntax, wrong resource type, bad parameter."""

    code = "invalid"


class UnsupportedMediaType(DomainError):
    """The body is in a format the server does not read."""

    code = "not-supported"


class NotAcceptable(DomainError):
    """The client asks for a response format the server does not write."""

    code = "not-supported"


class PayloadTooLarge(DomainError):
    """The body is larger than the configured limit."""

    code = "too-costly"


class NotFound(DomainError):
    """No resource (or no resource type, route or version) of that name."""

    code = "not-found"


class Gone(DomainError):
    """The resource existed and was deleted."""

    code = "deleted"


class Conflict(DomainError):
    """The write collides with existing data, e.g. an identifier another Patient holds."""

    code = "duplicate"


class PreconditionFailed(DomainError):
    """``If-Match`` names another version, or a conditional request matched several."""

    code = "conflict"


class BusinessRuleViolation(DomainError):
    """The request is well-formed but breaks a rule of the domain (identifier check digit,
    merge priority…)."""

    code = "business-rule"


class LimitExceeded(BusinessRuleViolation):
    """The request asks for more than a limit of this server allows (too many repeats of an
    element, Bundle entries…; ``app.domain.limits``)."""

    code = "too-costly"


class InvalidIdentifier(BusinessRuleViolation):
    """An identifier value breaks its kind's rule (docs/domain.md §2)."""

    code = "value"


class Unauthorized(DomainError):
    """No bearer token, or one that does not verify (signature, expiry, audience…)."""

    code = "login"

    def __init__(self, message: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(message)
        #: The RFC 6750 ``error`` of the WWW-Authenticate challenge (None: no token sent).
        self.error = error


class Forbidden(DomainError):
    """The token is valid but its scopes do not allow the interaction."""

    code = "forbidden"


class TooManyRequests(DomainError):
    """The caller already has as much work running as a limit allows (``$export`` jobs);
    answered 429, to be tried again later."""

    code = "throttled"
