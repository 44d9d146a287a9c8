"""The default registry: the built-in step types, registered explicitly."""

from __future__ import annotations

from towpath.steps import (
    agent,
    approval,
    clarification,
    condition,
    delay,
    emit,
    for_each,
    http_request,
    llm,
    sub_workflow,
    switch,
    task,
    transform,
    wait_for_event,
)
from towpath.steps.registry import StepRegistry


def default_registry() -> StepRegistry:
    """A new registry holding every built-in step type, in catalog order."""
    registry = StepRegistry()
    registry.register(http_request.STEP)
    registry.register(agent.STEP)
    registry.register(llm.STEP)
    registry.register(condition.STEP)
    registry.register(switch.STEP)
    registry.register(transform.STEP)
    registry.register(for_each.STEP)
    registry.register(delay.STEP)
    registry.register(approval.STEP)
    registry.register(clarification.STEP)
    registry.register(sub_workflow.STEP)
    registry.register(wait_for_event.STEP)
    registry.register(task.STEP)
    registry.register(emit.STEP)
    return registry
