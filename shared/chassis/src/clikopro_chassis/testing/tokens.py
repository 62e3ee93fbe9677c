"""Access tokens for tests, signed like identity's, with a JWKS a verifier can fetch."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from clikopro_chassis.auth import TOKEN_AUDIENCE, TOKEN_ISSUER


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _JwksServer:
    """Serves a directory over HTTP on a free port (PyJWT fetches JWKS over HTTP(S) only)."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


class TokenFactory:
    """An RSA key, its JWKS served over HTTP from ``directory``, and a way to mint tokens."""

    def __init__(self, directory: Path, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex[:12]
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"jwks-{self.kid}.json"
        jwk = {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}
        self.path.write_text(json.dumps({"keys": [jwk]}))
        self._server = _JwksServer(directory)

    @property
    def jwks_url(self) -> str:
        return f"{self._server.url}/{self.path.name}"

    def close(self) -> None:
        self._server.server.shutdown()

    def token(
        self,
        user_id: uuid.UUID | str | None = None,
        role: str = "client",
        *,
        expires_in: int = 300,
        **claims: Any,
    ) -> str:
        now = dt.datetime.now(dt.UTC)
        payload = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": str(user_id or uuid.uuid4()),
            "role": role,
            "iat": now,
            "exp": now + dt.timedelta(seconds=expires_in),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})

    def headers(
        self, user_id: uuid.UUID | str | None = None, role: str = "client", **claims: Any
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, role, **claims)}"}
