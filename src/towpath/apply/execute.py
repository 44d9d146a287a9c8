"""Carrying out a plan over the API: each change through the same calls a person makes, so
the server's roles, checks and audit log apply to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from towpath.apply.errors import ApplyError, ServerError
from towpath.apply.kinds import AGENT, SCHEDULE, WORKFLOW
from towpath.apply.plan import describe

if TYPE_CHECKING:
    from towpath.apply.client import Api
    from towpath.apply.loader import Document
    from towpath.apply.plan import Step
    from towpath.apply.state import ServerState

Say = Callable[[str], None]


def _with_defaults(doc: Document) -> dict[str, Any]:
    return {name: doc.fields.get(name, doc.kind.defaults.get(name)) for name in doc.kind.fields}


class Applier:
    def __init__(self, api: Api, state: ServerState, say: Say) -> None:
        self.api = api
        self.state = state
        self.say = say
        # Workflows published by this apply: their name, the new version's id (and number).
        self.published: dict[str, str] = {}
        self.published_versions: dict[str, tuple[int, str]] = {}

    async def run(self, steps: list[Step]) -> None:
        for step in steps:
            if step.action != "unchanged":
                try:
                    await self._carry_out(step)
                except ServerError as error:
                    raise error.about(step.desired.path) from error
            for line in describe(step, dry_run=False):
                self.say(line)

    async def _carry_out(self, step: Step) -> None:
        kind = step.desired.kind
        if kind is WORKFLOW:
            await self._workflow(step)
        elif kind is AGENT:
            await self._agent(step)
        elif kind is SCHEDULE:
            await self._schedule(step)
        else:
            await self._subscription(step)

    async def _workflow(self, step: Step) -> None:
        """A changed workflow is a new version, published; a version that fails to publish
        is deleted again, and the one that ran before goes on running."""
        fields = _with_defaults(step.desired)
        if step.current is None or step.current.lineage is None:
            draft = await self.api.call("POST", "/workflows", fields)
        else:
            base = step.current.lineage.newest["id"]
            draft = await self.api.call("POST", f"/workflows/{base}/duplicate")
        try:
            if step.current is not None and step.current.lineage is not None:
                # A change the server refuses leaves no draft behind either.
                draft = await self.api.call("PUT", f"/workflows/{draft['id']}", fields)
            await self.api.call("POST", f"/workflows/{draft['id']}/publish")
        except ServerError:
            await self.api.call("DELETE", f"/workflows/{draft['id']}")
            raise
        self.published[fields["name"]] = draft["id"]
        self.published_versions[fields["name"]] = (int(draft["version"]), draft["id"])

    async def _agent(self, step: Step) -> None:
        fields = _with_defaults(step.desired)
        fields["kind"] = fields.pop("agent_kind")
        if step.current is None:
            await self.api.call("POST", "/agents", fields)
        else:
            await self.api.call("PUT", f"/agents/{step.current.id}", fields)

    def _workflow_id(self, doc: Document, name: str | None) -> str | None:
        if name is None or name in self.published:
            return self.published.get(name) if name else None
        current = self.state.find(WORKFLOW, name)
        if current is None or current.lineage is None:
            raise ApplyError(f"no workflow named {name!r}", doc.path)
        return str((current.lineage.published or current.lineage.newest)["id"])

    def _version_id(self, doc: Document, name: str, number: int | None) -> str | None:
        if number is None:
            return None
        made = self.published_versions.get(name)
        if made is not None and made[0] == number:
            return made[1]
        current = self.state.find(WORKFLOW, name)
        found = current.lineage.version_id(number) if current and current.lineage else None
        if found is None:
            raise ApplyError(f"workflow {name!r} has no version {number}", doc.path)
        return found

    async def _schedule(self, step: Step) -> None:
        doc = step.desired
        fields = _with_defaults(doc)
        name = fields.pop("workflow")
        fields["workflow_id"] = self._workflow_id(doc, name)
        fields["version_id"] = self._version_id(doc, name, fields.pop("workflow_version"))
        # Made or changed by name, in one call.
        await self.api.call("POST", "/triggers/schedule", fields)

    async def _subscription(self, step: Step) -> None:
        fields = _with_defaults(step.desired)
        enabled = fields.pop("enabled")
        workflow_id = self._workflow_id(step.desired, fields.pop("workflow"))
        if step.current is not None:
            changes = {"event_types": fields["event_types"], "description": fields["description"]}
            await self.api.call(
                "PATCH", f"/subscriptions/{step.current.id}", {**changes, "enabled": enabled}
            )
            return
        made = await self.api.call("POST", "/subscriptions", {**fields, "workflow_id": workflow_id})
        if not enabled:
            await self.api.call("PATCH", f"/subscriptions/{made['id']}", {"enabled": False})
        self.say(f"{step.desired.label}: signing secret (shown once): {made['secret']}")
