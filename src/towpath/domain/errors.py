"""Domain errors. They carry a stable code and details, never an HTTP status."""

from __future__ import annotations

import math
from typing import Any


class TowpathError(Exception):
    code = "ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(TowpathError):
    code = "NOT_FOUND"


class Conflict(TowpathError):
    """The resource is in a state that does not allow the request."""

    code = "CONFLICT"


class InvalidRequest(TowpathError):
    code = "INVALID_REQUEST"


class Unprocessable(TowpathError):
    """Well-formed, but breaks a rule of the product."""

    code = "UNPROCESSABLE"


class TooLarge(TowpathError):
    code = "TOO_LARGE"


class WorkflowNotFound(NotFound):
    code = "WORKFLOW_NOT_FOUND"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} not found", details={"id": workflow_id})


class WorkflowPublished(Conflict):
    code = "WORKFLOW_PUBLISHED"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            f"workflow {workflow_id!r} is published and frozen; duplicate it to change it",
            details={"id": workflow_id, "status": "published"},
        )


class PublishedWorkflowNotDeletable(Conflict):
    code = "WORKFLOW_PUBLISHED"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            f"workflow {workflow_id!r} is published and cannot be deleted",
            details={"id": workflow_id, "status": "published"},
        )


class WorkflowNotPublished(Conflict):
    code = "WORKFLOW_NOT_PUBLISHED"

    def __init__(self, workflow_id: str, status: str) -> None:
        super().__init__(
            f"workflow {workflow_id!r} is a {status}; publish it before running it",
            details={"id": workflow_id, "status": status},
        )


class WorkflowInvalid(Unprocessable):
    code = "WORKFLOW_INVALID"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(
            f"the workflow definition has {len(errors)} error(s)", details={"errors": errors}
        )


class DefinitionTooLarge(TooLarge):
    code = "DEFINITION_TOO_LARGE"


class DefinitionOverLimit(Unprocessable):
    code = "DEFINITION_OVER_LIMIT"


class IdempotencyKeyReused(Unprocessable):
    code = "IDEMPOTENCY_KEY_REUSED"

    # What differed from the key's first request: "target" (its method and path), "body".
    _WHAT = {
        ("target",): "on another target (method and path), with this same body",
        ("body",): "with a different request body",
        ("target", "body"): "on another target (method and path), with a different body",
    }

    def __init__(self, key: str, differs: tuple[str, ...] = ("target", "body")) -> None:
        super().__init__(
            f"this idempotency key was first used {self._WHAT[differs]};"
            " a key names one request, so use a new key for this one",
            details={"idempotency_key": key, "differs": list(differs)},
        )


class InvalidIdempotencyKey(Unprocessable):
    code = "INVALID_IDEMPOTENCY_KEY"

    def __init__(
        self, source: str, rule: str, length: int, header: str = "X-Idempotency-Key"
    ) -> None:
        # `source`: "header" or "body"; one rule and one error for both. A webhook's
        # delivery id may come in its scheme's own header (`webhook-id`).
        where = f"the {header} header" if source == "header" else "the body's idempotency_key"
        super().__init__(f"{where} must be {rule}", details={"in": source, "length": length})


class IdempotencyKeysDiffer(Unprocessable):
    code = "IDEMPOTENCY_KEYS_DIFFER"

    def __init__(self, header_key: str, body_key: str) -> None:
        super().__init__(
            "the X-Idempotency-Key header and the body's idempotency_key differ; a retry"
            " could not tell which one it repeats, so send one key, or the same in both",
            details={"header": header_key, "body": body_key},
        )


class IdempotencyKeyInFlight(Conflict):
    code = "IDEMPOTENCY_KEY_IN_FLIGHT"

    def __init__(self, key: str) -> None:
        super().__init__(
            "a request with this idempotency key is still being processed; retry shortly",
            details={"idempotency_key": key},
        )


class Unauthenticated(TowpathError):
    """No credential, or one that is malformed, expired, revoked or wrongly signed."""

    code = "UNAUTHENTICATED"


class Forbidden(TowpathError):
    code = "FORBIDDEN"


class RoleRequired(Forbidden):
    def __init__(self, needed: str, held: str) -> None:
        super().__init__(
            f"this needs the {needed!r} role; the caller has {held!r}",
            details={"required_role": needed, "role": held},
        )


class RateLimited(TowpathError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after: float, scope: str) -> None:
        # Whole seconds, as the Retry-After header carries them.
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            f"too many requests for this {scope}; retry after {self.retry_after} s",
            details={"retry_after_seconds": self.retry_after, "scope": scope},
        )
