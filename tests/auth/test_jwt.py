"""JWTs: shared-secret (Supabase-style) and JWKS-published keys, and what is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from towpath.app import create_app
from towpath.domain.errors import Forbidden, Unauthenticated
from towpath.services.members import add_member

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from tests.servers import JwksServer
    from towpath.auth.principal import Principal
    from towpath.config import Settings

SECRET = "super-secret-jwt-token-with-at-least-32-characters"
WORKFLOWS = "/api/v1/workflows"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    found: dict[str, Any] = {"sub": "user-1", "aud": "authenticated", "iat": now, "exp": now + 600}
    found.update(overrides)
    return found


def hs256(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


def forge_hs256(payload: dict[str, Any], key: bytes, kid: str) -> str:
    """An HS256 token made by hand: PyJWT rightly refuses to use a public key as a secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = b".".join(
        base64url_encode(json.dumps(part).encode()) for part in (header, payload)
    )
    signature = base64url_encode(hmac.new(key, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


def public_jwk(key: Any, kid: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    found: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    found["kid"] = kid
    return found


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def settings(settings: Settings, jwks_server: JwksServer) -> Settings:
    return settings.model_copy(
        update={
            "jwt_secret": SECRET,
            "jwt_jwks_url": jwks_server.jwks_url,
            "jwt_algorithms": ["HS256", "RS256", "ES256"],
            "jwks_min_refresh_seconds": 0.0,
        }
    )


@pytest.fixture
async def admin(app: FastAPI, auth_headers: dict[str, str]) -> Principal:
    """The test workspace's admin, as the server knows it."""
    key = auth_headers["Authorization"].removeprefix("Bearer ")
    found: Principal = await app.state.authenticator.authenticate(key)
    return found


@pytest.fixture
async def member(app: FastAPI, admin: Principal) -> None:
    """user-1 is an editor of the test workspace."""
    await add_member(app.state.db, admin, "user-1", "editor")


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://towpath.test") as c:
        yield c


async def call(client: httpx.AsyncClient, token: str, path: str = WORKFLOWS) -> httpx.Response:
    return await client.get(path, headers={"Authorization": f"Bearer {token}"})


async def refused(client: httpx.AsyncClient, token: str) -> str:
    response = await call(client, token)
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    message: str = response.json()["message"]
    return message


@pytest.mark.usefixtures("member")
async def test_a_valid_supabase_token_acts_with_the_members_role(
    anonymous: httpx.AsyncClient,
) -> None:
    token = hs256()

    assert (await call(anonymous, token)).status_code == 200
    created = await anonymous.post(
        WORKFLOWS, json={"name": "by jwt"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201
    keys = await call(anonymous, token, "/api/v1/api-keys")
    assert keys.status_code == 403
    assert keys.json()["details"]["required_role"] == "admin"


@pytest.mark.usefixtures("member")
async def test_expired_early_foreign_and_forged_tokens_are_refused(
    anonymous: httpx.AsyncClient,
) -> None:
    now = int(time.time())
    assert "expired" in await refused(anonymous, hs256(exp=now - 120))
    assert "not valid yet" in await refused(anonymous, hs256(nbf=now + 600))
    assert "audience" in await refused(anonymous, hs256(aud="someone-else"))
    assert "signature" in await refused(anonymous, hs256(secret="another-secret-" * 3))
    assert await refused(anonymous, hs256(exp=None) + "x")
    # Within the leeway, a clock a little behind still accepts the token.
    assert (await call(anonymous, hs256(exp=now - 5))).status_code == 200


@pytest.mark.usefixtures("member")
async def test_alg_none_is_refused(anonymous: httpx.AsyncClient) -> None:
    # PyJWT takes "" as no key, and its signature does not admit None.
    unsigned = jwt.encode(claims(), "", algorithm="none")

    assert "'none'" in await refused(anonymous, unsigned)


@pytest.mark.usefixtures("member")
async def test_a_token_hmac_signed_with_the_public_key_is_refused(
    anonymous: httpx.AsyncClient, jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks_server.keys = [public_jwk(rsa_key, "k1")]
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Algorithm confusion: HS256 keyed with the RSA public key everyone can read.
    forged = forge_hs256(claims(), public_pem, kid="k1")

    assert "signature" in await refused(anonymous, forged)


@pytest.mark.usefixtures("member")
async def test_rs256_and_es256_tokens_verify_with_the_jwks(
    anonymous: httpx.AsyncClient,
    jwks_server: JwksServer,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    jwks_server.keys = [public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1")]
    rs = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    # The EC key's id on an RS256 token: the key does not fit the algorithm.
    mismatched = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "ec-1"})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong_key = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "rsa-1"})

    assert (await call(anonymous, rs)).status_code == 200
    assert (await call(anonymous, es)).status_code == 200
    assert "not a key for RS256" in await refused(anonymous, mismatched)
    assert "signature" in await refused(anonymous, wrong_key)


@pytest.mark.usefixtures("member")
async def test_a_rotated_jwks_key_is_fetched_and_the_retired_one_refused(
    anonymous: httpx.AsyncClient, jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks_server.keys = [public_jwk(rsa_key, "old")]
    old = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "old"})
    assert (await call(anonymous, old)).status_code == 200

    new_key = ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [public_jwk(new_key, "new")]
    new = jwt.encode(claims(), new_key, algorithm="ES256", headers={"kid": "new"})

    assert (await call(anonymous, new)).status_code == 200
    assert "not in the JWKS" in await refused(anonymous, old)


async def test_a_user_who_is_no_member_gets_403(anonymous: httpx.AsyncClient) -> None:
    response = await call(anonymous, hs256(sub="stranger"))

    assert response.status_code == 403
    assert response.json()["error_code"] == "NOT_A_MEMBER"


async def test_workspace_and_role_may_come_from_claims(
    settings: Settings, jwks_server: JwksServer
) -> None:
    configured = settings.model_copy(
        update={
            "jwt_workspace_claim": "app_metadata.workspace",
            "jwt_role_claim": "app_metadata.role",
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        auth = app.state.authenticator
        found = await auth.authenticate(
            hs256(sub="ops", app_metadata={"workspace": "default", "role": "operator"})
        )
        with pytest.raises(Forbidden):
            await auth.authenticate(hs256(sub="ops", app_metadata={"workspace": "default"}))
        with pytest.raises(Forbidden):
            await auth.authenticate(hs256(sub="ops", app_metadata={"workspace": "nowhere"}))

    assert found.role == "operator"
    assert found.kind == "jwt"
    assert found.subject == "user:ops"


@pytest.mark.usefixtures("member")
async def test_authenticate_is_the_one_check_for_any_raw_credential(
    app: FastAPI, auth_headers: dict[str, str]
) -> None:
    auth = app.state.authenticator
    exp = int(time.time()) + 300

    by_key = await auth.authenticate(auth_headers["Authorization"].removeprefix("Bearer "))
    by_token = await auth.authenticate(hs256(exp=exp))

    assert by_key.role == "admin"
    assert by_key.expires_at is None
    assert by_token.role == "editor"
    assert by_token.workspace_id == by_key.workspace_id
    assert by_token.expires_at is not None
    assert int(by_token.expires_at.timestamp()) == exp
    with pytest.raises(Unauthenticated):
        await auth.authenticate("tp_nope")
    with pytest.raises(Unauthenticated):
        await auth.authenticate(hs256(exp=exp - 3600))


async def test_jwts_are_refused_when_none_are_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"jwt_secret": "", "jwt_jwks_url": ""}))
    async with app.router.lifespan_context(app):
        with pytest.raises(Unauthenticated, match="no secret or JWKS URL"):
            await app.state.authenticator.authenticate(hs256())
