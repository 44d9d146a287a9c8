"""What the graph checks need to know of a step type, without importing steps/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import builtins

    from pydantic import BaseModel

# The validation context under which a definition's config is checked as its author wrote
# it, before any template is rendered. Without it, a config is the one the engine rendered
# for an attempt, and a step type may accept what templates give (a number in a text field).
AS_WRITTEN: dict[str, Any] = {"as_written": True}


def is_as_written(context: Any) -> bool:
    """True when `context` (a pydantic validation context) is AS_WRITTEN."""
    return isinstance(context, dict) and context.get("as_written") is True


class StepSpec(Protocol):
    """The part of a registered step type that validation reads."""

    @property
    def type(self) -> str: ...

    @property
    def config_model(self) -> builtins.type[BaseModel]: ...

    @property
    def expression_fields(self) -> tuple[str, ...]:
        """Top-level config fields holding a bare Jinja expression, not a template."""
        ...

    def branch_handles(self, config: BaseModel) -> frozenset[str] | None:
        """The `sourceHandle`s this step may leave by, or None for a plain step."""
        ...

    def handle_required(self) -> bool:
        """True when every outgoing edge must name one of `branch_handles`."""
        ...
