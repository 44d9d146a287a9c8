"""Control actions on a resource (approve, clarify, resume, cancel, retry a run, ...) with an
`X-Idempotency-Key`, in the store the creating requests use (`services.idempotency`).

The same key and body answer the first answer again, whatever happened since; the same
key with another body or on another target (method and path) is 422; the same key while
its first request is still in flight is 409. A request that fails frees its key, so a
corrected request may use it. The action commits in its own transaction and the key is
completed right after: a process that dies between the two leaves the key to be taken
over once its lock times out, and the action, tried again, answers from the state the
first one left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from towpath.domain.errors import IdempotencyKeyReused
from towpath.services.idempotency import Created, claim_key, free_key
from towpath.storage import idempotency as keys

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from towpath.auth.principal import Principal
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database

Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class ControlKey:
    """One request's key (None: the request sent none), and what keeping it needs."""

    db: Database
    caller: Principal
    request: IdempotencyRequest | None
    policy: IdempotencyPolicy
    # Told when the answer is the first request's, replayed (the API marks its response).
    replayed: Callable[[], None] = lambda: None

    async def answer(
        self,
        resource_id: str,
        payload: Any,
        model: type[Answer],
        act: Callable[[], Awaitable[Answer]],
    ) -> Answer:
        """`act`'s answer, acted at most once per key. `payload`: the request's body as
        the key's fingerprint covers it; `resource_id`: the resource acted on."""
        if self.request is None:
            return await act()
        claimed = await claim_key(self.db, self.caller, self.request, payload, self.policy)
        if isinstance(claimed, Created):
            if claimed.answer is None:
                # A key a creating request completed on this same target: not an answer
                # to replay here.
                raise IdempotencyKeyReused(self.request.key, ("target",))
            self.replayed()
            return model.model_validate(claimed.answer)
        try:
            answer = await act()
        except BaseException:
            await free_key(self.db, claimed)
            raise
        async with self.db.transaction() as session:
            await keys.complete_key(
                session, claimed, 200, resource_id, answer.model_dump(mode="json")
            )
        return answer
