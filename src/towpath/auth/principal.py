"""The caller of a request, as every service function sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    subject: str
    workspace_id: str
    role: str
