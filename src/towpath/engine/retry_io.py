"""What a retry changes of a run beyond its state: its input, its workflow version and the
inputs it set for steps, columns a transition's own write of the run leaves alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.engine.retry_plan import STEP_INPUTS
from towpath.engine.sql import execute

if TYPE_CHECKING:
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.retry_plan import RetryRequest
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction

_UPDATE = "UPDATE runs SET input = ?, context = ?, workflow_id = ? WHERE id = ?"


def write_retried_run(
    rt: RunTransaction, target: PreparedWorkflow, request: RetryRequest
) -> Gen[None]:
    """Written only when the retry changes one of them: a plain retry writes nothing more.
    The step inputs of an earlier retry are dropped: they were for its attempts."""
    run = rt.run
    context = dict(run.context) if isinstance(run.context, dict) else {}
    had_inputs = context.pop(STEP_INPUTS, None) is not None
    if request.step_inputs:
        context[STEP_INPUTS] = request.step_inputs
    same_version = target.workflow_id == run.workflow_id
    if request.run_input is None and same_version and not (request.step_inputs or had_inputs):
        return
    run.context = context
    if request.run_input is not None:
        run.input = request.run_input
    run.workflow_id = target.workflow_id
    d = rt.d
    yield from execute(_UPDATE, d.doc(run.input), d.doc(context), run.workflow_id, run.id)
