"""Settings, read from `TOWPATH_*` environment variables and passed in explicitly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from towpath.api.profiles import PROFILES
from towpath.auth.settings import AuthSettings, split_list
from towpath.engine.settings import EngineSettings
from towpath.events.settings import StreamSettings
from towpath.triggers.outbox_settings import OutboxSettings
from towpath.triggers.retention_settings import RetentionSettings

# An idle kept-alive connection is closed after this long. Longer than the idle time
# clients and proxies keep a connection for reuse (httpx 5 s, nginx 60 s): a server
# closing first races a request sent on the connection, which then fails unanswered.
KEEP_ALIVE_SECONDS = 75


class Settings(
    BaseSettings, StreamSettings, AuthSettings, EngineSettings, OutboxSettings, RetentionSettings
):
    model_config = SettingsConfigDict(env_prefix="TOWPATH_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./towpath.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    keep_alive_seconds: int = Field(default=KEEP_ALIVE_SECONDS, ge=1)
    # A comma-separated list in the environment: TOWPATH_CORS_ORIGINS=a,b
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:5173"]
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # One JSON object per line (with request, run and step ids), or text for a terminal.
    log_format: Literal["json", "text"] = "json"
    # FULL survives power loss after commit; NORMAL is faster and survives a process crash.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # A request that waits this long for a database connection (every one of the pool's
    # busy) is answered 503 with Retry-After, and a stream opening then closes with 1013.
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # PostgreSQL: a statement with no answer after this long fails as the database being
    # away (503 with Retry-After; the engine tries again), so a connection that went silent
    # (a partition, a host gone without a reset) cannot hold a request or a worker forever.
    database_command_timeout_seconds: float = Field(default=60.0, gt=0)
    max_request_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    max_definition_bytes: int = Field(default=1024 * 1024, gt=0)
    max_definition_nodes: int = Field(default=500, gt=0)
    max_definition_edges: int = Field(default=2000, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    # A request holding an idempotency key this long is taken to have died.
    idempotency_lock_seconds: int = Field(default=60, gt=0)
    # The longest a queue's long poll is held, whatever `wait_seconds` it asks for.
    queue_poll_max_wait_seconds: float = Field(default=30.0, ge=0, le=30)

    # Run the engine's worker inside the API process (the embedded default).
    run_worker: bool = True
    # Requests a minute (and the burst allowed at once) per client address and per
    # credential, counted in each API process; 0 turns a limit off.
    rate_limit_address_per_minute: int = Field(default=2400, ge=0)
    rate_limit_address_burst: int = Field(default=400, ge=1)
    rate_limit_credential_per_minute: int = Field(default=0, ge=0)
    rate_limit_credential_burst: int = Field(default=200, ge=1)
    # When set, /metrics answers only `Authorization: Bearer <this>`.
    metrics_token: str = ""
    # Off, publishing refuses a workflow that starts its own workflow again, directly or
    # through other published workflows; on, such recursion is allowed and only the
    # depth and tree bounds stop it.
    allow_recursive_workflows: bool = False
    # Every enabled agent's health URL is called this often (seconds; 0 turns it off), and
    # the last `agent_health_keep` results of each are kept for the API and /metrics.
    agent_health_interval_seconds: float = Field(default=60.0, ge=0)
    agent_health_keep: int = Field(default=20, ge=1, le=1000)
    # Fernet keys for workspace secrets, comma-separated, the newest first: the first
    # encrypts, all decrypt. Unset, a key the server makes once and keeps in its database
    # is used; production should set its own (and keep it apart from the database).
    secrets_key: str = Field(default="", repr=False)
    # The founding documents' APIs served beside towpath's own (towpath.api.profiles),
    # comma-separated: TOWPATH_PROFILES=executions,tasks; empty serves none of them.
    profiles: Annotated[frozenset[str], NoDecode] = Field(
        default_factory=lambda: frozenset(PROFILES)
    )

    @field_validator("cors_origins", "step_allowed_hosts", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        # NoDecode hands the environment's raw string through; split it here.
        return split_list(value)

    @field_validator("profiles", mode="before")
    @classmethod
    def _known_profiles(cls, value: object) -> object:
        names = split_list(value)
        if isinstance(names, list | tuple | set | frozenset):
            unknown = sorted(str(name) for name in names if name not in PROFILES)
            if unknown:
                known = ", ".join(PROFILES)
                raise ValueError(f"unknown profiles {unknown}: the profiles are {known}")
            return frozenset(names)
        return names

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    return Settings()
