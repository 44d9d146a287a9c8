"""Agents' tests: a public URL for callbacks, no periodic health checks unless a test
starts its own app with them, and the agent fleet server."""

from __future__ import annotations

import pytest

from tests import servers
from tests.agents.fleet import agent_fleet
from towpath.config import Settings

__all__ = ["agent_fleet", "refused_url", "settings"]

PUBLIC_URL = "https://towpath.example.com"
refused_url = servers.refused_url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        step_allowed_hosts=["127.0.0.0/8", "::1", "localhost"],
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
        public_url=PUBLIC_URL,
        agent_health_interval_seconds=0,
    )
