"""Retention policy requests and responses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from towpath.api.schemas.strict import RequestModel, whole

# Ten years: past it, keeping for ever (null) says the same.
MAX_DAYS = 3650


# The bounds before the whole-number rule: after it, the document would name them `ge`
# and `le`, which JSON Schema does not know, and clients would not hold to them.
Days = Annotated[Annotated[int, Field(ge=1, le=MAX_DAYS)], BeforeValidator(whole)]


class RetentionInput(RequestModel):
    # Required, so that an empty body changes nothing: null keeps finished runs for ever
    # (for a workflow: as its workspace's policy says).
    finished_runs_days: Days | None = Field(
        description="Delete finished runs (completed, failed, cancelled) this many days"
        " after they ended; null: keep them (a workflow then follows its workspace)"
    )


class RetentionPolicyResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    # `workspace`: every workflow without a policy of its own; `workflow`: one lineage.
    scope: Literal["workspace", "workflow"]
    finished_runs_days: int | None
    # The workflow's lineage id (the id of its version 1), for a workflow's policy.
    workflow_id: str | None = None
    name: str | None = None
