"""Values a step uses that no workspace may read, kept out of what the step records: its
output, error, waiting request and log lines. The engine redacts the workspace secrets a
step's config names; these are the others (the server's LLM key, the secrets an agent's
headers name)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from towpath.domain.secrets import Redactor
from towpath.steps.execution import Completed, Failed, Waiting

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towpath.steps.execution import Outcome, StepContext


class Hiding:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._redactor = Redactor(values)

    def context(self, context: StepContext) -> StepContext:
        """`context`, its log lines hidden from as they are written."""
        if not self._redactor:
            return context
        hide = self._redactor.quoted_text
        return replace(context, log=lambda level, text: context.log(level, hide(text)))

    def outcome(self, outcome: Outcome) -> Outcome:
        if not self._redactor:
            return outcome
        if isinstance(outcome, Completed):
            return replace(outcome, output=self._redactor.value(outcome.output))
        if isinstance(outcome, Failed):
            return replace(outcome, error=self._redactor.quoted_text(outcome.error))
        if isinstance(outcome, Waiting):
            return replace(outcome, request=self._redactor.value(dict(outcome.request)))
        return outcome
