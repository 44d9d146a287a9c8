"""Settings of the step types that reach the network, mixed into `towpath.config.Settings`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_settings import NoDecode


class StepSettings(BaseModel):
    # Where http_request and agent steps may connect although the address is private,
    # loopback or link-local: CIDRs, addresses or host names, each optionally with :port.
    # (A comma-separated list in the environment; `towpath.config` splits it.)
    step_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # An OpenAI-compatible endpoint for `llm` steps.
    llm_base_url: str = "https://api.openai.com/v1"
    llm_api_key: str = ""
    # towpath's address as agents reach it (https://towpath.example.com): the callback URLs
    # `agent` steps that wait for a callback send start here. Without it, such a step fails.
    public_url: str | None = None
    # After this many calls in a row to one host and port fail (no answer, a timeout, a 5xx),
    # calls there are refused for `step_circuit_open_seconds`, then tried one at a time.
    # 0 turns it off.
    step_circuit_failures: int = Field(default=5, ge=0)
    step_circuit_open_seconds: float = Field(default=30.0, gt=0, le=3600)
