"""The step catalog a front end builds its palette from."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class StepCatalogEntry(BaseModel):
    type: str
    label: str
    description: str
    icon: str
    category: Literal["integrations", "ai", "logic", "data", "flow"]
    config_schema: dict[str, Any]
