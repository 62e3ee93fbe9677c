"""Services verify access tokens themselves with identity's JWKS: forged,
expired, unsigned or misdirected tokens are refused; rotated keys are learnt."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.testclient import TestClient

from clikopro_chassis.auth import TokenVerifier
from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.errors import Unauthenticated
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.web.app import create_app

SPEC = Path(__file__).parent / "web_probe.yaml"


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[TokenFactory]:
    factory = TokenFactory(tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def client(tmp_path: Path, issuer: TokenFactory) -> Iterator[TestClient]:
    settings = Settings.from_env("probe", {"DATA_DIR": str(tmp_path)}).replace(
        broker_url="memory://", jwks_url=issuer.jwks_url, jwks_refresh_cooldown_seconds=0
    )
    app = create_app(settings=settings, spec=SPEC, database=Database(settings.database_url), services=None)
    with TestClient(app) as client:
        yield client


def refused(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"


def test_a_valid_token_names_the_caller(client: TestClient, issuer: TokenFactory) -> None:
    user_id = uuid.uuid4()
    response = client.get("/whoami", headers=issuer.headers(user_id, "pro"))
    assert response.status_code == 200
    assert response.json() == {"user_id": str(user_id), "role": "pro"}


def test_no_token_is_refused(client: TestClient) -> None:
    refused(client.get("/whoami"))
    refused(client.get("/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"}))


def test_an_expired_token_is_refused(client: TestClient, issuer: TokenFactory) -> None:
    response = client.get("/whoami", headers=issuer.headers(expires_in=-60))
    refused(response)
    assert "expired" in response.json()["detail"]


def test_a_token_signed_with_another_key_is_refused(
    client: TestClient, issuer: TokenFactory, tmp_path: Path
) -> None:
    impostor = TokenFactory(tmp_path / "impostor", kid=issuer.kid)  # same key id, different key
    refused(client.get("/whoami", headers=impostor.headers(role="admin")))


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_unsigned_token_is_refused(client: TestClient, issuer: TokenFactory) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": "clikopro-identity", "aud": "clikopro-api", "sub": str(uuid.uuid4()), "role": "admin",
              "iat": now, "exp": now + 300}  # fmt: skip
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{b64(claims)}."
    refused(client.get("/whoami", headers={"Authorization": f"Bearer {unsigned}"}))


def test_a_token_for_another_audience_or_issuer_is_refused(client: TestClient, issuer: TokenFactory) -> None:
    refused(client.get("/whoami", headers=issuer.headers(aud="another-api")))
    refused(client.get("/whoami", headers=issuer.headers(iss="someone-else")))
    refused(client.get("/whoami", headers=issuer.headers(role="superuser")))
    refused(client.get("/whoami", headers={"Authorization": "Bearer not.a.jwt"}))


def test_hmac_signed_with_the_public_key_is_refused(client: TestClient, issuer: TokenFactory) -> None:
    # The classic confusion attack: HS256 keyed with the (public) RSA key. Built by
    # hand, since PyJWT itself refuses to sign like that.
    public_pem = issuer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": "clikopro-identity", "aud": "clikopro-api", "sub": str(uuid.uuid4()), "role": "admin",
              "iat": now, "exp": now + 300}  # fmt: skip
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}.{b64(claims)}"
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    )
    forged = f"{signing_input}.{signature.rstrip(b'=').decode()}"
    refused(client.get("/whoami", headers={"Authorization": f"Bearer {forged}"}))


def test_a_rotated_key_is_learnt_without_a_restart(
    client: TestClient, issuer: TokenFactory, tmp_path: Path
) -> None:
    assert client.get("/whoami", headers=issuer.headers()).status_code == 200  # old key cached
    rotated = TokenFactory(tmp_path / "rotated")
    old = json.loads(issuer.path.read_text())["keys"]
    new = json.loads(rotated.path.read_text())["keys"]
    issuer.path.write_text(json.dumps({"keys": old + new}))  # identity publishes both during rotation
    assert client.get("/whoami", headers=rotated.headers()).status_code == 200
    assert client.get("/whoami", headers=issuer.headers()).status_code == 200  # the old key still works


def test_a_key_withdrawn_from_the_jwks_stops_verifying(issuer: TokenFactory) -> None:
    verifier = TokenVerifier(issuer.jwks_url, keys_lifespan=0.2, refresh_cooldown=0)
    token = issuer.token()
    assert verifier.verify(token).role == "client"
    issuer.path.write_text(json.dumps({"keys": []}))  # identity withdraws a compromised key
    time.sleep(0.3)
    with pytest.raises(Unauthenticated):
        verifier.verify(token)


def test_callers_present_the_first_internal_secret() -> None:
    from clikopro_chassis.auth import internal_headers

    assert internal_headers("new-secret, old-secret") == {"X-Internal-Token": "new-secret"}
    assert internal_headers(" ") == {}
