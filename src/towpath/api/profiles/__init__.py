"""Seed profiles: the paths, bodies and messages of the documents towpath grew from, each a
thin set of routes and schema adapters over the same services as towpath's own API.

A profile is switched on by name (`TOWPATH_PROFILES`, all of them by default) and its routes
share one OpenAPI tag, so a client written from one document finds its whole contract there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from fastapi import APIRouter

# Name -> the founding document its routes speak for.
PROFILES: Final[dict[str, str]] = {
    "frontend": "000_1b551751913f3aac.txt",
    "executions": "002_a25e84c67dcad9b5.txt",
    "management": "003_3ff6052acf5fc0f8.txt",
    "tasks": "004_1ece73cab027ed70.txt",
}


def profile_routers(enabled: frozenset[str]) -> list[APIRouter]:
    """The routers of the enabled profiles, in a fixed order. Each profile package exports
    `router`, mounted at the application's root: a profile's paths are its document's own."""
    routers: list[APIRouter] = []
    for name in PROFILES:
        if name in enabled:
            module = importlib.import_module(f"towpath.api.profiles.{name}")
            routers.append(module.router)
    return routers
