"""Readiness: every dependency this process is configured to use, checked now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from towpath.auth.jwks import JwksKeys
    from towpath.storage.database import Database

OK = "ok"


async def check(db: Database, jwks: JwksKeys | None) -> dict[str, str]:
    """Each dependency's state: "ok", or the kind of error that reaching it raised."""
    checks: dict[str, str] = {}
    try:
        await db.ping()
        checks["database"] = OK
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = type(exc).__name__
    if jwks is not None:
        from towpath.auth.jwks import JwksUnavailable  # only when JWTs are configured

        try:
            await jwks.check()
            checks["jwks"] = OK
        except JwksUnavailable:
            checks["jwks"] = "unreachable"
    return checks
