"""Workflow requests and responses (the shapes front ends already speak)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from towpath.api.schemas.strict import RequestModel
from towpath.domain.definition import WorkflowDefinition

if TYPE_CHECKING:
    from pydantic import ModelWrapValidatorHandler

WorkflowStatus = Literal["draft", "published"]


class _KeepsSentDefinition(RequestModel):
    """A request holding a definition: the parsed copy checks its shape, and what is stored
    is the definition as the client sent it, so it reads back the same (no default added,
    10 stays 10, an editor's own keys kept)."""

    _sent_definition: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("definition", mode="before", check_fields=False)
    @classmethod
    def _strict_definition(cls, value: Any) -> Any:
        # The definition's own models are lax; a request holds them to JSON types too.
        if isinstance(value, dict):
            return WorkflowDefinition.model_validate(value, strict=True)
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _keep_sent_definition(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        request = handler(value)
        if isinstance(value, dict) and isinstance(value.get("definition"), dict):
            request._sent_definition = value["definition"]
        return request

    def stored_fields(self, *, exclude_unset: bool = False) -> dict[str, Any]:
        """The fields to store; with `exclude_unset`, only those the client gave."""
        fields = self.model_dump(mode="json", exclude_unset=exclude_unset)
        if "definition" in fields and self._sent_definition is not None:
            fields["definition"] = self._sent_definition
        return fields


class WorkflowCreate(_KeepsSentDefinition):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    definition: WorkflowDefinition = Field(default_factory=WorkflowDefinition)
    input_schema: dict[str, Any] | None = None


class WorkflowUpdate(_KeepsSentDefinition):
    """Any subset of the fields; `input_schema: null` removes the schema, the others may
    be left out but not set to null."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    description: Annotated[str, Field(max_length=10_000)] | SkipJsonSchema[None] = None
    definition: WorkflowDefinition | SkipJsonSchema[None] = None
    input_schema: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        if isinstance(value, dict):
            nulls = [
                k for k in ("name", "description", "definition") if k in value and value[k] is None
            ]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} may be left out, not set to null")
        return value


class _Archivable(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    # Archived, a version starts no run (POST /workflows/{id}/unarchive).
    archived_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class WorkflowResponse(_Archivable):
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
    # Paused, no version of the workflow starts a run (POST /workflows/{id}/unpause).
    paused: bool = False


class WorkflowVersion(_Archivable):
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
