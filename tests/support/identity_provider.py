"""A local OpenID Connect identity provider: keys made here with cryptography, tokens signed the way a
provider signs them, and its discovery document and JWKS served over real HTTP from a thread."""

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "retail-care-api"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/protocol/openid-connect/certs"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str  # RS256 or ES256
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def jwk(self) -> dict:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        return {**algorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "use": "sig",
                "alg": self.algorithm}


def new_key(algorithm: str = "RS256", kid: str | None = None) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256" \
        else ec.generate_private_key(ec.SECP256R1())
    return SigningKey(kid or f"key-{uuid.uuid4().hex[:8]}", algorithm, private)


@dataclass
class IdentityProvider:
    issuer: str = "https://idp.retail.test/realms/chain"
    keys: list[SigningKey] = field(default_factory=lambda: [new_key()])
    requests: dict[str, int] = field(default_factory=lambda: {DISCOVERY_PATH: 0, JWKS_PATH: 0})

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATH

    def documents(self) -> dict[str, dict]:
        return {
            DISCOVERY_PATH: {"issuer": self.issuer, "jwks_uri": self.jwks_url, "id_token_signing_alg_values_supported":
                             sorted({key.algorithm for key in self.keys})},
            JWKS_PATH: {"keys": [key.jwk() for key in self.keys]},
        }

    def rotate(self, algorithm: str = "RS256") -> SigningKey:
        """Signs with a new key from now on and stops publishing the old one."""
        self.keys = [new_key(algorithm)]
        return self.keys[0]

    def token(self, claims: dict, *, key: SigningKey | None = None, kid: str | None = None, audience: str = AUDIENCE,
              issuer: str | None = None, ttl: timedelta = timedelta(minutes=5), now: datetime | None = None) -> str:
        """A token as the provider issues it, signed with its current key or the one given, under `kid` if given."""
        key = key or self.keys[0]
        now = now or datetime.now(UTC)
        payload = {"iss": issuer or self.issuer, "aud": audience, "iat": now, "exp": now + ttl, **claims}
        return jwt.encode(payload, key.private, algorithm=key.algorithm, headers={"kid": key.kid if kid is None else kid})


@contextmanager
def serving(provider: IdentityProvider) -> Iterator[IdentityProvider]:
    """The provider on a real HTTP server at 127.0.0.1, its issuer that server's URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.removeprefix(path_prefix)
            document = provider.documents().get(path)
            if document is None:
                self.send_error(404)
                return
            provider.requests[path] += 1
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    path_prefix = "/realms/chain"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.issuer = f"http://127.0.0.1:{server.server_port}{path_prefix}"
    thread = threading.Thread(target=server.serve_forever, name="identity-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
