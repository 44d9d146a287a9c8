"""Event trigger use cases: subscribe a workflow's lineage to an event name, list, read,
delete; and what a subscriber makes of one event (passes its filter? which input?)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Unprocessable
from towpath.domain.template_sandbox import RenderCapReached, TemplateLimitExceeded
from towpath.domain.templates import (
    TemplateError,
    evaluate_expression,
    referenced_names,
    render_value,
    template_strings,
)
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import event_triggers as queries
from towpath.storage.models import EventTrigger
from towpath.storage.workflows import get_workflow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest

# What a filter and an input template may name: the event's name, key and data.
EVENT_NAMES = frozenset({"name", "key", "data"})
# What the audit log calls one.
KIND = "event_trigger"


class EventTriggerInvalid(Unprocessable):
    code = "EVENT_TRIGGER_INVALID"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"the event trigger's {field} is refused: {message}",
            details={"errors": [{"loc": ["body", field], "msg": message, "type": "template"}]},
        )


class EventInputFailed(Unprocessable):
    code = "EVENT_TRIGGER_FAILED"


@dataclass(frozen=True)
class EventTriggerSpec:
    name: str
    event_name: str
    workflow_id: str
    pinned: bool
    filter: str | None
    input_template: dict[str, Any] | None


def _names_used(text: str, field: str, *, expression: bool) -> None:
    try:
        unknown = referenced_names(text, expression=expression) - EVENT_NAMES
    except TemplateError as exc:
        raise EventTriggerInvalid(field, str(exc)) from exc
    if unknown:
        names = ", ".join(sorted(unknown))
        raise EventTriggerInvalid(field, f"names {names}; only name, key and data exist")


def check_spec(spec: EventTriggerSpec) -> None:
    """The filter parses as one expression and the templates parse, naming only the event."""
    if spec.filter is not None:
        _names_used(spec.filter, "filter", expression=True)
    for path, text in template_strings(spec.input_template or {}):
        _names_used(text, f"input_template.{path}" if path else "input_template", expression=False)


def _summary(trigger: EventTrigger) -> dict[str, Any]:
    return {
        "name": trigger.name,
        "event_name": trigger.event_name,
        "workflow_id": trigger.workflow_id,
        "pinned": trigger.pinned,
        "filter": trigger.filter,
    }


async def create(
    db: Database,
    caller: Principal,
    spec: EventTriggerSpec,
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> tuple[EventTrigger, bool]:
    """The new trigger; the bool says it was an earlier request's, by its key."""
    check_spec(spec)

    async def make(session: AsyncSession) -> str:
        await get_workflow(session, caller.workspace_id, spec.workflow_id)
        trigger = EventTrigger(
            workspace_id=caller.workspace_id,
            name=spec.name,
            event_name=spec.event_name,
            workflow_id=spec.workflow_id,
            pinned=spec.pinned,
            filter=spec.filter,
            input_template=spec.input_template,
            created_by=caller.subject,
        )
        await queries.add_trigger(session, trigger)
        change = Change(
            "event_trigger.create", "event_trigger", trigger.id, None, _summary(trigger)
        )
        await record(session, caller, change)
        return trigger.id

    made = await made_once(db, caller, key, asdict(spec), policy, make)
    return await get(db, caller, made.resource_id), made.replayed


async def list_triggers(
    db: Database, caller: Principal, page: PageRequest, event_name: str | None
) -> Page[EventTrigger]:
    async with db.read() as session:
        return await queries.list_triggers(session, caller.workspace_id, page, event_name)


async def get(db: Database, caller: Principal, trigger_id: str) -> EventTrigger:
    async with db.read() as session:
        return await queries.get_trigger(session, caller.workspace_id, trigger_id)


async def delete(db: Database, caller: Principal, trigger_id: str) -> None:
    async with db.transaction() as session:
        trigger = await queries.get_trigger(session, caller.workspace_id, trigger_id)
        before = _summary(trigger)
        await queries.delete_trigger(session, trigger)
        await record(
            session, caller, Change("event_trigger.delete", "event_trigger", trigger_id, before)
        )


def subscriber_input(
    filter_expression: str | None, input_template: Any, event: dict[str, Any]
) -> dict[str, Any] | None:
    """The run input a subscriber starts with, or None when its filter turns the event
    away. `event` holds the name, key and data; the data alone is the input by default."""
    try:
        if filter_expression is not None and not evaluate_expression(filter_expression, event):
            return None
        if input_template is None:
            data: dict[str, Any] = event["data"]
            return data
        value = render_value(input_template, event)
    except (TemplateError, TemplateLimitExceeded, RenderCapReached) as exc:
        raise EventInputFailed(f"the trigger's filter or input template failed: {exc}") from exc
    if not isinstance(value, dict):
        raise EventInputFailed("the trigger's input template did not make a JSON object")
    return value
