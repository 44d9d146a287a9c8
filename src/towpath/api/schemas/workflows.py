"""Workflow requests and responses (the shapes front ends already speak)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from towpath.domain.definition import WorkflowDefinition

WorkflowStatus = Literal["draft", "published"]


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    definition: WorkflowDefinition = Field(default_factory=WorkflowDefinition)
    input_schema: dict[str, Any] | None = None


class WorkflowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    definition: WorkflowDefinition | None = None
    input_schema: dict[str, Any] | None = None


class WorkflowResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    lineage_id: str
    name: str
    description: str
    version: int
    status: WorkflowStatus
    definition: dict[str, Any]
    input_schema: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class WorkflowVersion(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    status: WorkflowStatus
    name: str
    created_at: datetime
    published_at: datetime | None


class ValidationIssue(BaseModel):
    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    path: str | None = None


class ValidationResponse(BaseModel):
    valid: bool
    # Messages, each naming its node or edge; `issues` has the same errors structured.
    errors: list[str]
    issues: list[ValidationIssue]
