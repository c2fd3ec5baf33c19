"""The HTTP frame every service shares: what any request body, method or path gets back, and the
headers and documentation every service answers with."""

import hashlib
from base64 import b64encode
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from services.shared.auth import mint_token
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.web import create_app, html_page

SETTINGS = PlatformSettings(auth_signing_key="a-test-key-that-is-long-enough-for-hs256!")
PRODUCTION = PlatformSettings(env="production", auth_signing_key="Qm9yZWFsLWtleS1mb3ItdGhlLXRlc3RzLTIwMjY=x7")
PAGE = '<!doctype html><title>t</title><style>p { color: red }</style><p>hi</p><script>document.title = "x";</script>'


class Answer(BaseModel):
    score: int
    comment: str = ""
    amount: float = 0.0
    tags: list[str] = []


def make_client(platform: PlatformSettings = SETTINGS) -> TestClient:
    app = create_app(service="test", platform=platform, checks={}, max_body_bytes=1024)

    @app.post("/v1/answers")
    def answer(body: Answer) -> Answer:  # no token, like a customer's CSAT answer
        return body

    @app.get("/page")
    def page():
        return html_page(PAGE)

    return TestClient(app, raise_server_exceptions=False)


CLIENT = make_client()


def post_raw(raw: bytes):
    return CLIENT.post("/v1/answers", content=raw, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("raw", "loc", "message"),
    [
        (b'{"score": 4, "amount": NaN}', ["body", "amount"], "not a finite number"),
        (b'{"score": 4, "amount": Infinity}', ["body", "amount"], "not a finite number"),
        (b'{"score": 4, "amount": -Infinity}', ["body", "amount"], "not a finite number"),
        (b'{"score": 4, "amount": 1e400}', ["body", "amount"], "not a finite number"),
        (b'{"score": 1e400}', ["body", "score"], "not a finite number"),
        (b'{"score": 4, "comment": "\\ud800"}', ["body", "comment"], "lone surrogate"),
        (b'{"score": 4, "comment": "\xed\xa0\x80"}', ["body", "comment"], "lone surrogate"),
        (b'{"score": 4, "tags": ["ok", "\\udfff"]}', ["body", "tags", 1], "lone surrogate"),
        (b'{"score": 4, "\\ud800": 1}', ["body"], "lone surrogate"),
        (b'{"score": 4, "comment": "a\\u0000b"}', ["body", "comment"], "NUL"),
        (b'{"score": 123456789012345678901234567890}', ["body", "score"], "64-bit"),
    ],
    ids=["nan", "infinity", "minus-infinity", "overflowing-float", "overflowing-int-field", "escaped-surrogate",
         "raw-surrogate", "surrogate-in-list", "surrogate-in-key", "nul", "huge-int"],
)
def test_a_body_no_service_can_hold_is_422_naming_the_field(raw, loc, message):
    response = post_raw(raw)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert message in error["msg"]


def test_a_sane_body_still_reaches_the_route():
    response = post_raw('{"score": 4, "comment": "Hyvä palvelu 👍", "amount": 1.5e3, "tags": ["a"]}'.encode())
    assert response.status_code == 200
    assert response.json() == {"score": 4, "comment": "Hyvä palvelu 👍", "amount": 1500.0, "tags": ["a"]}


def test_a_body_over_the_limit_is_413_declared_or_streamed():
    declared = CLIENT.post("/v1/answers", json={"score": 4, "comment": "x" * 2000})
    assert declared.status_code == 413
    assert declared.json() == {"detail": "request body over 1024 bytes"}
    streamed = CLIENT.post("/v1/answers", content=iter([b'{"score": 4, "comment": "', b"x" * 2000, b'"}']),
                           headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


def request_labels(label: str) -> set[str]:
    """The values of `label` in the request metrics, as ops scrape them."""
    token = mint_token(SETTINGS, sub="ops-0001", role=Role.ops, now=datetime.now(UTC), ttl=timedelta(minutes=5))
    text = CLIENT.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    return {sample.labels[label] for family in text_string_to_metric_families(text)
            if family.name == "http_requests" for sample in family.samples}


def test_invented_methods_and_paths_add_no_metric_series():
    for method in ("FOO", "BAR-1", "X" * 50):
        assert CLIENT.request(method, "/metrics").status_code == 405
    CLIENT.get("/no/such/path/8f3a")
    methods, routes = request_labels("method"), request_labels("route")
    assert "other" in methods
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "unmatched" in routes
    assert "/no/such/path/8f3a" not in routes


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "request_", [("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/nowhere"), ("POST", "/v1/answers"), ("GET", "/page")],
    ids=["200", "401", "404", "422", "html"],
)
def test_every_answer_carries_the_security_headers(request_):
    response = CLIENT.request(*request_)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_json_answer_may_load_nothing():
    assert "default-src 'none'" in CLIENT.get("/healthz").headers["content-security-policy"]


def test_a_page_runs_only_its_own_inline_script_and_style():
    policy = CLIENT.get("/page").headers["content-security-policy"]

    def digest(text: str) -> str:
        return f"'sha256-{b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == digest('document.title = "x";')
    assert directives["style-src"] == digest("p { color: red }")
    assert "'unsafe-inline'" not in policy


def test_api_documentation_is_served_in_development_only():
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert CLIENT.get(path).status_code == 200
        assert make_client(PRODUCTION).get(path).status_code == 404


def test_metrics_follow_the_registry_with_each_exposition_whole_however_large():
    lines = [f'retail_big_total{{store="s-{n:05}"}} {n}\n'.encode() for n in range(60_000)]  # about 2.5 MiB
    app = create_app(service="test", platform=SETTINGS, checks={},
                     expositions=[lambda: [b"# TYPE retail_big_total counter\n", *lines]])
    token = mint_token(SETTINGS, sub="ops-0001", role=Role.ops, now=datetime.now(UTC), ttl=timedelta(minutes=5))
    text = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    families = {family.name: family.samples for family in text_string_to_metric_families(text)}
    assert "http_requests" in families
    assert [sample.value for sample in families["retail_big"]] == list(range(60_000))
