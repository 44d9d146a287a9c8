"""What the graph checks need to know of a step type, without importing steps/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import builtins

    from pydantic import BaseModel


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
