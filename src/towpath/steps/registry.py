"""The step registry: every step type registers once, explicitly, at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator

    from pydantic import BaseModel

    from towpath.steps.execution import Execute, RunInline

Category = Literal["integrations", "ai", "logic", "data", "flow"]


class DuplicateStepType(Exception):
    """Two step types registered under one name."""


@dataclass(frozen=True)
class StepType:
    type: str
    label: str
    description: str
    icon: str  # a Lucide icon name
    category: Category
    config_model: builtins.type[BaseModel]
    expression_fields: tuple[str, ...] = ()
    # Given the parsed config: the handles the step may leave by (None: a plain step).
    handles: Callable[[BaseModel], frozenset[str]] | None = None
    requires_handle: bool = False
    # Config fields the engine leaves unrendered: the step evaluates them itself.
    raw_fields: tuple[str, ...] = ()
    execute: Execute | None = None
    # Set for pure steps: the engine may run them inside the transaction that made them
    # ready, so a chain of them costs one commit instead of one each.
    inline: RunInline | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def branch_handles(self, config: BaseModel) -> frozenset[str] | None:
        return None if self.handles is None else self.handles(config)

    def handle_required(self) -> bool:
        return self.requires_handle

    def config_schema(self) -> dict[str, Any]:
        return self.config_model.model_json_schema()

    def catalog_entry(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "label": self.label,
            "description": self.description,
            "icon": self.icon,
            "category": self.category,
            "config_schema": self.config_schema(),
        }


class StepRegistry:
    def __init__(self) -> None:
        self._types: dict[str, StepType] = {}

    def register(self, step: StepType) -> None:
        if step.type in self._types:
            raise DuplicateStepType(f"step type {step.type!r} is registered twice")
        self._types[step.type] = step

    def get(self, step_type: str) -> StepType | None:
        return self._types.get(step_type)

    def __contains__(self, step_type: object) -> bool:
        return step_type in self._types

    def __iter__(self) -> Iterator[StepType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def specs(self) -> dict[str, StepType]:
        return dict(self._types)

    def catalog(self) -> list[dict[str, Any]]:
        return [step.catalog_entry() for step in self._types.values()]
