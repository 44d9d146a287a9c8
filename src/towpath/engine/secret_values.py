"""The workspace secrets a claimed step reads, decrypted just before it executes, and
results redacted of them before they are recorded: a value lives only in the worker's
memory, for the call that needs it."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from towpath.domain.secrets import DEFAULT_SECRET, SECRET_NAMING, Redactor
from towpath.domain.templates import secrets_read
from towpath.engine.sql import fetch
from towpath.steps.execution import Completed, Deferred, Failed, FanOut, StartChild, Waiting
from towpath.storage.secret_keys import SecretUnreadable

if TYPE_CHECKING:
    from pydantic import BaseModel

    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.execute import Result
    from towpath.engine.sql import Gen
    from towpath.engine.work import Work
    from towpath.steps.execution import Outcome
    from towpath.steps.registry import StepRegistry
    from towpath.storage.secret_keys import SecretKeys

log = logging.getLogger("towpath.engine")


def wanted_secrets(config: dict[str, Any], model: type[BaseModel] | None) -> frozenset[str]:
    """Names the config's templates read, and those its secret-naming fields give."""
    names = set(secrets_read(config))
    for key, field in (model.model_fields if model is not None else {}).items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get(SECRET_NAMING) is True:
            named = config.get(key) or extra.get(DEFAULT_SECRET)
            if isinstance(named, str):
                names.add(named)
    return frozenset(names)


class SecretValues:
    """Attaches to a claimed step the values of the secrets it reads, from its run's
    workspace; a step that reads none costs no query."""

    def __init__(self, driver: TransitionDriver, registry: StepRegistry, keys: SecretKeys) -> None:
        self._driver = driver
        self._registry = registry
        self._keys = keys
        # Published workflows never change, so what a step of one reads is kept.
        self._wanted: OrderedDict[tuple[str, str, bool], frozenset[str]] = OrderedDict()

    def _names(self, work: Work) -> frozenset[str]:
        key = (work.workflow_id, work.step_id, work.item_index >= 0)
        found = self._wanted.get(key)
        if found is None:
            step_type = self._registry.get(work.step_type)
            model = step_type.config_model if step_type is not None else None
            found = self._wanted[key] = wanted_secrets(work.config, model)
            if len(self._wanted) > 4096:
                self._wanted.popitem(last=False)
        return found

    async def attach(self, work: Work) -> Work:
        names = self._names(work)
        if not names:
            return work
        ordered = sorted(names)

        def read() -> Gen[list[tuple[Any, ...]]]:
            marks = ", ".join("?" for _ in ordered)
            return (
                yield from fetch(
                    "SELECT s.name, s.ciphertext FROM workspace_secrets s"
                    " JOIN runs r ON r.workspace_id = s.workspace_id"
                    f" WHERE r.id = ? AND s.name IN ({marks})",
                    work.run_id,
                    *ordered,
                )
            )

        values: dict[str, str] = {}
        for name, ciphertext in await self._driver.run(read):
            try:
                values[name] = self._keys.decrypt(ciphertext)
            except SecretUnreadable:
                log.warning("secret %s of run %s: no configured key decrypts it", name, work.run_id)
        return replace(work, variables={**work.variables, "secrets": values})


def _redacted_outcome(outcome: Outcome, redactor: Redactor) -> Outcome:
    if isinstance(outcome, Completed):
        return replace(outcome, output=redactor.value(outcome.output))
    if isinstance(outcome, Failed):
        return replace(outcome, error=redactor.quoted_text(outcome.error))
    if isinstance(outcome, Waiting):
        return replace(outcome, request=redactor.value(dict(outcome.request)))
    if isinstance(outcome, Deferred):
        return replace(outcome, saved=redactor.value(dict(outcome.saved)))
    if isinstance(outcome, FanOut):
        return replace(outcome, items=redactor.value(outcome.items))
    if isinstance(outcome, StartChild):
        return replace(outcome, input=redactor.value(outcome.input))
    return outcome


def redacted(result: Result) -> Result:
    """`result` with every form of each secret its step read replaced by `[secret:NAME]`:
    its output or error, the rendered input and its logs, before any is written."""
    secrets = result.work.variables.get("secrets")
    redactor = Redactor(secrets) if isinstance(secrets, dict) else None
    if not redactor:
        return result
    return replace(
        result,
        outcome=_redacted_outcome(result.outcome, redactor),
        input=redactor.value(result.input),
        logs=[(level, redactor.quoted_text(message)) for level, message in result.logs],
    )
