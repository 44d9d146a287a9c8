"""Settings of the pruning of finished runs and old records (mixed into `Settings`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetentionSettings(BaseModel):
    # Runs one prune transaction deletes at most (whole run trees, so a little more when a
    # tree passes it): small, so the engine's own transactions never wait long.
    retention_batch: int = Field(default=200, ge=1, le=10_000)
    # How often the pruner looks for runs past their policy (0 turns it off).
    retention_interval_seconds: float = Field(default=300.0, ge=0)
    # The pause between two batches of one pass, leaving the database to the engine.
    retention_pause_seconds: float = Field(default=0.2, ge=0)
    # Days the records beside the runs are kept once finished: incoming webhook requests,
    # posted events, schedule ticks, outgoing deliveries delivered or given up, and queue
    # pollers last seen (0 keeps them for ever). Expired idempotency keys go regardless.
    retention_records_days: int = Field(default=30, ge=0)
