"""The `X-Idempotency-Key` of a control action on a run (approve, cancel, retry, ...), as
a dependency: a route hands its action to `answer_once` (see services.control_keys).
Without postponed annotations: FastAPI reads `control_key`'s parameters at runtime."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Response

from towpath.api.deps import Caller, Idempotency, Rules, RuntimeDep
from towpath.api.responses import mark_created
from towpath.api.schemas.runs import RunResponse, run_response
from towpath.services.control_keys import ControlKey

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pydantic import BaseModel

    from towpath.storage.rows import RunRow


async def control_key(
    runtime: RuntimeDep, caller: Caller, rules: Rules, key: Idempotency, response: Response
) -> ControlKey:
    # FastAPI hands a dependency the response the route answers with.
    return ControlKey(
        runtime.db, caller, key, rules.idempotency, replayed=lambda: mark_created(response, True)
    )


OnceKey = Annotated[ControlKey, Depends(control_key)]


async def answer_once(
    key: ControlKey,
    run_id: str,
    body: "BaseModel",
    action: "Callable[..., Awaitable[tuple[RunRow, dict[str, Any]]]]",
    *args: Any,
) -> RunResponse:
    """`action(*args)` on a run as a control action: once per idempotency key, if one was
    sent. The key's fingerprint covers each field of `body`, sent or not, so bodies that
    say the same thing are the same."""

    async def act() -> RunResponse:
        return run_response(*await action(*args))

    return await key.answer(run_id, body.model_dump(mode="json"), RunResponse, act)
