"""Typed dependencies every route shares: the database, the caller and its role, paging."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from towpath.api.rate_limit import mark_authenticated
from towpath.auth.authenticator import Authenticator
from towpath.auth.principal import Principal
from towpath.domain.errors import RateLimited, RoleRequired, Unauthenticated
from towpath.engine.runtime import Runtime
from towpath.services.idempotency import KEY_SCHEMA, IdempotencyRequest, checked_key
from towpath.services.workflows import WorkflowRules
from towpath.storage.database import Database
from towpath.storage.secret_keys import SecretKeys

if TYPE_CHECKING:
    from towpath.api.rate_limit import RateLimiter

# Where `current_principal` leaves the caller it authenticated, for the role checks.
PRINCIPAL = "towpath.principal"
NEEDS_CREDENTIAL = "this needs a credential: `Authorization: Bearer …` or `X-API-Key`"

_bearer = HTTPBearer(auto_error=False, description="An API key (`tp_…`) or a JWT")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (`tp_…`)")


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def authenticator(request: Request) -> Authenticator:
    found: Authenticator = request.app.state.authenticator
    return found


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    x_workspace: Annotated[
        str | None,
        Header(max_length=100, description="For a JWT user of several workspaces: which one"),
    ] = None,
) -> Principal:
    credential = bearer.credentials if bearer is not None else api_key
    if not credential:
        raise Unauthenticated(NEEDS_CREDENTIAL)
    auth: Authenticator = request.app.state.authenticator
    principal = await auth.authenticate(credential, workspace=x_workspace)
    mark_authenticated(request.scope)
    limiter: RateLimiter = request.app.state.credential_limiter
    wait = limiter.take(principal.subject)
    if wait is not None:
        raise RateLimited(wait, "credential")
    request.scope[PRINCIPAL] = principal
    return principal


async def authenticated(request: Request) -> Principal:
    """The caller that `current_principal`, a dependency of every router these routes are
    included in, authenticated before them. Read, not solved again: FastAPI solves a
    dependency's own dependencies again at each use, cached or not, and the credential's
    were a third of a request's routing and dependency work. Without one (a route
    included where nothing authenticates), the request is refused."""
    principal: Principal | None = request.scope.get(PRINCIPAL)
    if principal is None:
        raise Unauthenticated(NEEDS_CREDENTIAL)
    return principal


def _requires(role: str) -> Any:
    # Takes the request, not `authenticated`: each dependency of a dependency is one more
    # to solve at every request.
    async def check(request: Request) -> Principal:
        caller = await authenticated(request)
        if not caller.has_role(role):
            raise RoleRequired(role, caller.role)
        return caller

    check.__name__ = f"requires_{role}"
    return Depends(check)


async def workflow_rules(request: Request) -> WorkflowRules:
    rules: WorkflowRules = request.app.state.workflow_rules
    return rules


async def secret_keys(request: Request) -> SecretKeys:
    """What encrypts workspace secrets and webhook signing secrets."""
    keys: SecretKeys = request.app.state.secret_keys
    return keys


async def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


async def idempotency_request(
    request: Request,
    x_idempotency_key: Annotated[
        str | None,
        Header(
            json_schema_extra=KEY_SCHEMA,
            description="Repeating a request with the same key returns its first result",
        ),
    ] = None,
) -> IdempotencyRequest | None:
    if x_idempotency_key is None:
        return None
    key = checked_key(x_idempotency_key, "header")
    return IdempotencyRequest(key=key, operation=f"{request.method} {request.url.path}")


DB = Annotated[Database, Depends(database)]
Auth = Annotated[Authenticator, Depends(authenticator)]
Caller = Annotated[Principal, Depends(authenticated)]
# The caller, holding at least this role in its workspace (else 403).
Viewer = Annotated[Principal, _requires("viewer")]
Operator = Annotated[Principal, _requires("operator")]
Editor = Annotated[Principal, _requires("editor")]
Admin = Annotated[Principal, _requires("admin")]
Rules = Annotated[WorkflowRules, Depends(workflow_rules)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Keys = Annotated[SecretKeys, Depends(secret_keys)]
Idempotency = Annotated[IdempotencyRequest | None, Depends(idempotency_request)]
