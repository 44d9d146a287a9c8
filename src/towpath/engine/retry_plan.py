"""What a retry runs again and what keeps its output: a plan over the graph of the version
the run retries on and where the run's steps ended. Pure, so a dry run and the retry
itself answer the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from towpath.domain.errors import Unprocessable
from towpath.domain.states import StepStatus
from towpath.domain.step_spec import AS_WRITTEN
from towpath.steps.catalog import default_registry

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from towpath.domain.scheduler import RunGraph
    from towpath.storage.rows import RunRow

# Where a run keeps the inputs its last retry set for steps: `run.context[STEP_INPUTS]`.
STEP_INPUTS = "step_inputs"
_STEP_TYPES = default_registry()


class UnknownStep(Unprocessable):
    """`from_step`, or a step input, names no node of the version the run retries on."""

    code = "UNKNOWN_STEP"


class OverrideNotRunAgain(Unprocessable):
    code = "OVERRIDE_NOT_RUN_AGAIN"


class StepInputInvalid(Unprocessable):
    code = "STEP_INPUT_INVALID"


@dataclass(frozen=True)
class RetryRequest:
    """What a caller asks of a retry; the defaults are the plain retry of a failed run."""

    from_step: str | None = None
    # The run's input for this retry and on, replacing the one it started with.
    run_input: dict[str, Any] | None = None
    # Per node: its input (its config as rendered) for the attempts of this retry.
    step_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    to_latest: bool = False

    @property
    def plain(self) -> bool:
        """The retry of a failed run from its failed steps, on its own version."""
        return self.from_step is None and not self.to_latest

    def overrides(self) -> dict[str, Any]:
        """The overrides as the `run.retried` event records them."""
        found: dict[str, Any] = {}
        if self.run_input is not None:
            found["input"] = self.run_input
        if self.step_inputs:
            found["steps"] = self.step_inputs
        return found


@dataclass(frozen=True)
class RetryPlan:
    # Nodes that run (again), in graph order: the step retried from, what is downstream
    # of it, and every failed or cancelled step.
    run_again: list[str]
    # Steps that keep their output (or their skip): neither failed nor downstream.
    keep: list[str]
    # Steps of the run whose node the version retried on no longer has.
    dropped: list[str]


def downstream(run_graph: RunGraph, roots: Iterable[str]) -> set[str]:
    """The roots and every node reachable from them."""
    children: dict[str, list[str]] = {}
    for edge in run_graph.graph.edges:
        children.setdefault(edge.source, []).append(edge.target)
    found: set[str] = set()
    pending = list(roots)
    while pending:
        node_id = pending.pop()
        if node_id not in found:
            found.add(node_id)
            pending.extend(children.get(node_id, ()))
    return found


def plan_retry(
    target: RunGraph,
    ended: Mapping[str, tuple[str, str]],
    request: RetryRequest,
    changed: set[str],
    details: dict[str, Any],
) -> RetryPlan:
    """`ended`: each step the run has, its status and type; `changed`: the nodes the
    target version added or gave another type (they run, and what is downstream of
    them). `details`: the run's state, for the errors."""
    nodes = set(target.order)
    if request.from_step is not None and request.from_step not in nodes:
        raise UnknownStep(
            f"from_step {request.from_step!r} is not a node of the workflow",
            details={**details, "from_step": request.from_step, "nodes": target.order},
        )
    roots = {
        step_id
        for step_id, (status, _) in ended.items()
        if status in (StepStatus.FAILED, StepStatus.CANCELLED) and step_id in nodes
    }
    roots |= changed
    if request.from_step is not None:
        roots.add(request.from_step)
    again = downstream(target, roots) if not request.plain else roots
    run_again = [node_id for node_id in target.order if node_id in again]
    plan = RetryPlan(
        run_again=run_again,
        keep=[node_id for node_id in target.order if node_id in ended and node_id not in again],
        dropped=sorted(step_id for step_id in ended if step_id not in nodes),
    )
    _check_step_inputs(target, plan, request, details)
    return plan


def _check_step_inputs(
    target: RunGraph, plan: RetryPlan, request: RetryRequest, details: dict[str, Any]
) -> None:
    unknown = sorted(set(request.step_inputs) - set(target.order))
    if unknown:
        raise UnknownStep(
            f"input_overrides.steps names steps that are not nodes: {', '.join(unknown)}",
            details={**details, "steps": unknown, "nodes": target.order},
        )
    kept = sorted(set(request.step_inputs) - set(plan.run_again))
    if kept:
        raise OverrideNotRunAgain(
            f"input_overrides.steps names steps this retry does not run: {', '.join(kept)}",
            details={**details, "steps": kept, "run_again": plan.run_again},
        )
    for step_id, value in request.step_inputs.items():
        step_type = _STEP_TYPES.get(target.step_types[step_id])
        if step_type is None:
            continue
        try:
            # Held to what a definition is held to (a URL's scheme, a method's capitals):
            # what the schema refuses would only fail once the step ran.
            step_type.config_model.model_validate(value, context=AS_WRITTEN)
        except ValidationError as exc:
            errors = [
                {"path": "/" + "/".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors()
            ]
            raise StepInputInvalid(
                f"the input for step {step_id!r} is not a valid {step_type.type} config",
                details={**details, "step_id": step_id, "errors": errors},
            ) from exc


def step_inputs(run: RunRow) -> dict[str, dict[str, Any]]:
    """The inputs the run's last retry set for its steps ({} if none)."""
    context = run.context if isinstance(run.context, dict) else {}
    found = context.get(STEP_INPUTS)
    return found if isinstance(found, dict) else {}
