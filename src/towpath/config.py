"""Settings, read from `TOWPATH_*` environment variables and passed in explicitly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from towpath.auth.settings import AuthSettings, split_list
from towpath.events.settings import StreamSettings
from towpath.steps.settings import StepSettings


class Settings(BaseSettings, StreamSettings, AuthSettings, StepSettings):
    model_config = SettingsConfigDict(env_prefix="TOWPATH_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./towpath.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # A comma-separated list in the environment: TOWPATH_CORS_ORIGINS=a,b
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:5173"]
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # One JSON object per line (with request, run and step ids), or text for a terminal.
    log_format: Literal["json", "text"] = "json"
    # FULL survives power loss after commit; NORMAL is faster and survives a process crash.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    max_request_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    max_definition_bytes: int = Field(default=1024 * 1024, gt=0)
    max_definition_nodes: int = Field(default=500, gt=0)
    max_definition_edges: int = Field(default=2000, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    # A request holding an idempotency key this long is taken to have died.
    idempotency_lock_seconds: int = Field(default=60, gt=0)

    # Run the engine's worker inside the API process (the embedded default).
    run_worker: bool = True
    worker_concurrency: int = Field(default=64, ge=1, le=10_000)
    lease_seconds: float = Field(default=30.0, gt=0)
    poll_seconds: float = Field(default=0.5, gt=0)
    # Pure steps (transform, condition, switch) run inside the transaction that made them
    # ready; off, each is claimed and committed on its own like any other step.
    inline_pure_steps: bool = True
    # On shutdown, steps in flight get this long to finish before they are handed back.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Requests a minute (and the burst allowed at once) per client address and per
    # credential, counted in each API process; 0 turns a limit off.
    rate_limit_address_per_minute: int = Field(default=2400, ge=0)
    rate_limit_address_burst: int = Field(default=400, ge=1)
    rate_limit_credential_per_minute: int = Field(default=0, ge=0)
    rate_limit_credential_burst: int = Field(default=200, ge=1)
    # When set, /metrics answers only `Authorization: Bearer <this>`.
    metrics_token: str = ""
    # Template time and rendered characters one write transaction may spend on the pure
    # steps it runs inline; past either, the rest go to a worker, off the writer.
    inline_step_seconds: float = Field(default=0.02, gt=0)
    inline_step_output_chars: int = Field(default=1024 * 1024, gt=0)

    # What one workspace may make the engine do, so that no tenant can starve the others.
    # A sub_workflow step that would start a run this many levels below its root run
    # fails, and its run with it.
    max_sub_workflow_depth: int = Field(default=10, ge=1, le=1000)
    # Runs one run tree (a run started by a person or trigger, with every run started
    # from it, waited for or not) may start in all; a start past it fails its step.
    max_runs_per_tree: int = Field(default=1000, ge=1)
    # Items one for_each may run; a longer list fails the step.
    max_for_each_items: int = Field(default=10_000, ge=1)
    # Runs pending, running or waiting at once, per workspace and per workflow (all
    # versions of it). A start past one is refused: 429 over the API, a failed step for
    # a sub_workflow.
    max_runs_in_flight_per_workspace: int = Field(default=10_000, ge=1)
    max_runs_in_flight_per_workflow: int = Field(default=1000, ge=1)
    # Off, publishing refuses a workflow that starts its own workflow again, directly or
    # through other published workflows; on, such recursion is allowed and only the
    # depth and tree bounds stop it.
    allow_recursive_workflows: bool = False

    @field_validator("cors_origins", "step_allowed_hosts", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        # NoDecode hands the environment's raw string through; split it here.
        return split_list(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    return Settings()
