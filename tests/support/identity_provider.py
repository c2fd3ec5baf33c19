"""A local OpenID Connect identity provider: keys made here with cryptography, tokens signed the way a
provider signs them, and its discovery document and JWKS served over real HTTP from a thread. For a web
app's sign-in it has one client and, at its authorization endpoint, a person already signed in there:
it sends the browser straight back with a code, which its token endpoint exchanges once, for the client
that asked and the PKCE verifier of the challenge it was asked with, for an ID token, an access token and
a refresh token. A refresh token renews them once, for the person still signed in there, and is rotated;
its revocation endpoint forgets one."""

import base64
import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "retail-care-api"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/protocol/openid-connect/certs"
AUTHORIZE_PATH = "/protocol/openid-connect/auth"
TOKEN_PATH = "/protocol/openid-connect/token"
LOGOUT_PATH = "/protocol/openid-connect/logout"
REVOKE_PATH = "/protocol/openid-connect/revoke"
CLIENT_ID = "retail-care-webapp"
CLIENT_SECRET = "webapp-secret-3f9a"


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
    # The web app's client: its secret (None: a public client) and the redirect URIs registered for it.
    client_id: str = CLIENT_ID
    client_secret: str | None = CLIENT_SECRET
    redirect_uris: set[str] = field(default_factory=set)
    # The person signed in at the provider, by the claims of their access token; None: they decline.
    person: dict | None = None
    id_token_claims: dict = field(default_factory=dict)  # claims the next ID tokens carry beside (or instead of) the right ones
    codes: dict[str, dict] = field(default_factory=dict)  # codes issued and not yet exchanged
    refusals: list[str] = field(default_factory=list)  # why the token endpoint refused, in order
    issues_refresh_tokens: bool = True
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # issued, not yet used nor revoked: whose they are
    unpublished_key: SigningKey | None = None  # when set, signs the tokens it issues, though its JWKS does not publish it
    unavailable: bool = False  # its token and revocation endpoints answer 503, as behind a failing proxy

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATH

    def documents(self) -> dict[str, dict]:
        return {
            DISCOVERY_PATH: {"issuer": self.issuer, "jwks_uri": self.jwks_url, "id_token_signing_alg_values_supported":
                             sorted({key.algorithm for key in self.keys}),
                             "authorization_endpoint": self.issuer + AUTHORIZE_PATH, "token_endpoint": self.issuer + TOKEN_PATH,
                             "end_session_endpoint": self.issuer + LOGOUT_PATH, "revocation_endpoint": self.issuer + REVOKE_PATH,
                             "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                             "grant_types_supported": ["authorization_code", "refresh_token"],
                             "subject_types_supported": ["public"],
                             "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"]},
            JWKS_PATH: {"keys": [key.jwk() for key in self.keys]},
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The answer to a browser sent to sign in: a redirect back to the client (with a code, or an
        error), or, for a client or redirect URI it does not know, a 400 that sends it nowhere."""
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            return 400, "unknown client or redirect_uri"
        back = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split() \
                or query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 302, _with(redirect_uri, {**back, "error": "invalid_request"})
        if self.person is None:
            return 302, _with(redirect_uri, {**back, "error": "access_denied"})
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"client_id": self.client_id, "redirect_uri": redirect_uri, "challenge": query["code_challenge"],
                            "nonce": query.get("nonce"), "person": dict(self.person)}
        return 302, _with(redirect_uri, {**back, "code": code})

    def exchange(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        """The token endpoint: a code once, for its client (authenticated when confidential), its
        redirect URI and the verifier of its challenge; a refresh token once, for the person it was
        issued to while they are still signed in here."""
        client_id = self._client(form, authorization)
        if client_id is None:
            return self._refuse(401, "invalid_client")
        if form.get("grant_type") == "refresh_token":
            sub = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if sub is None or self.person is None or self.person["sub"] != sub:
                return self._refuse(400, "invalid_grant")
            return 200, self._tokens(self.person, client_id, {})
        if form.get("grant_type") != "authorization_code":
            return self._refuse(400, "unsupported_grant_type")
        grant = self.codes.pop(form.get("code", ""), None)  # once only, whatever comes next
        if grant is None or grant["client_id"] != client_id or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._refuse(400, "invalid_grant")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return self._refuse(400, "invalid_grant", "PKCE verification failed")
        return 200, self._tokens(grant["person"], client_id, {"nonce": grant["nonce"]})

    def revoke(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        """The revocation endpoint (RFC 7009): the client's refresh token is forgotten."""
        if self._client(form, authorization) is None:
            return self._refuse(401, "invalid_client")
        self.refresh_tokens.pop(form.get("token", ""), None)
        return 200, {}

    def _client(self, form: dict[str, str], authorization: str | None) -> str | None:
        """The client a request comes from, if it is ours and authenticated as it must be."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        if client_id != self.client_id or (self.client_secret is not None and secret != self.client_secret):
            return None
        return client_id

    def _tokens(self, person: dict, client_id: str, identity: dict) -> dict:
        """The token endpoint's answer for a person; `identity`: further claims of the ID token."""
        identity = {"sub": person["sub"], **identity, "azp": client_id, **self.id_token_claims}
        answer = {"token_type": "Bearer", "expires_in": 300, "scope": "openid profile",
                  "id_token": self.token(identity, audience=client_id, key=self.unpublished_key),
                  "access_token": self.token({**person, "azp": client_id, "scope": "openid profile"}, key=self.unpublished_key)}
        if self.issues_refresh_tokens:
            answer["refresh_token"] = secrets.token_urlsafe(32)
            self.refresh_tokens[answer["refresh_token"]] = person["sub"]
        return answer

    def _refuse(self, status: int, error: str, description: str | None = None) -> tuple[int, dict]:
        self.refusals.append(error)
        return status, {"error": error, **({"error_description": description} if description else {})}

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
            parts = urlsplit(self.path)
            path = parts.path.removeprefix(path_prefix)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            if path in (AUTHORIZE_PATH, LOGOUT_PATH):
                self._count(path)
                status, answer = provider.authorize(query) if path == AUTHORIZE_PATH \
                    else (302, query.get("post_logout_redirect_uri", provider.issuer))
                self._send(status, answer.encode(), "text/plain", location=answer if status == 302 else None)
                return
            document = provider.documents().get(path)
            if document is None:
                self.send_error(404)
                return
            self._count(path)
            self._send(200, json.dumps(document).encode(), "application/json")

        def do_POST(self) -> None:
            path = self.path.removeprefix(path_prefix)
            endpoint = {TOKEN_PATH: provider.exchange, REVOKE_PATH: provider.revoke}.get(path)
            if endpoint is None:
                self.send_error(404)
                return
            self._count(path)
            if provider.unavailable:
                self._send(503, b"Service Unavailable", "text/plain")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = {name: values[0] for name, values in parse_qs(body).items()}
            status, answer = endpoint(form, self.headers.get("Authorization"))
            self._send(status, json.dumps(answer).encode(), "application/json")

        def _count(self, path: str) -> None:
            provider.requests[path] = provider.requests.get(path, 0) + 1

        def _send(self, status: int, body: bytes, content_type: str, location: str | None = None) -> None:
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Type", content_type)
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


def _with(url: str, query: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
