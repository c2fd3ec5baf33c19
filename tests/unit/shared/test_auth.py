import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.shared.auth import AuthError, Authorize, mint_token
from services.shared.principal import Principal, Role
from services.shared.settings import DEVELOPMENT_SIGNING_KEY, PlatformSettings
from services.shared.web import create_app

SETTINGS = PlatformSettings(auth_signing_key="a-test-key-that-is-long-enough-for-hs256!")


def make_client() -> TestClient:
    app = create_app(service="test", platform=SETTINGS, checks={})

    @app.get("/v1/stores/{store_id}/complaints")
    def store_complaints(store_id: str, who: Principal = Depends(Authorize(Role.associate, Role.store_manager))):
        return {"store_id": store_id, "sub": who.sub}

    @app.get("/v1/regions/{region_id}/board")
    def region_board(region_id: str, who: Principal = Depends(Authorize(Role.regional_coordinator))):
        return {"region_id": region_id}

    return TestClient(app)


CLIENT = make_client()


def token(role=Role.associate, *, settings=SETTINGS, now=None, ttl=timedelta(hours=1), **scope) -> str:
    scope = scope or {"region_id": "uusimaa", "store_id": "hel-kamppi"}
    return mint_token(settings, sub="emp-1042", role=role, now=now or datetime.now(UTC), ttl=ttl, **scope)


def get(path: str, bearer: str | None):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return CLIENT.get(path, headers=headers)


def unsigned(claims: dict, alg: str = "none") -> str:
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def test_a_valid_token_in_scope_is_let_through():
    response = get("/v1/stores/hel-kamppi/complaints", token())
    assert response.status_code == 200
    assert response.json() == {"store_id": "hel-kamppi", "sub": "emp-1042"}


def test_a_missing_token_is_401_with_a_bearer_challenge():
    response = get("/v1/stores/hel-kamppi/complaints", None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "missing bearer token" in response.json()["detail"]


@pytest.mark.parametrize(
    ("bearer", "message"),
    [
        ("not-a-jwt", "not a well-formed JWT"),
        (token(now=datetime.now(UTC) - timedelta(hours=3)), "expired"),
        (token(settings=PlatformSettings(auth_signing_key="another-key-that-is-long-enough-too!!")), "signature is invalid"),
        (
            unsigned({"sub": "emp-1042", "role": "senior_manager", "iss": "retail-care", "aud": "retail-care",
                      "iat": 1, "exp": 4102444800}),
            "algorithm 'none' is not accepted",
        ),
        (token(settings=PlatformSettings(auth_signing_key=SETTINGS.auth_signing_key, auth_audience="other")),
         "not meant for retail-care"),
    ],
    ids=["malformed", "expired", "bad-signature", "alg-none", "wrong-audience"],
)
def test_bad_tokens_are_401_naming_the_problem(bearer, message):
    response = get("/v1/stores/hel-kamppi/complaints", bearer)
    assert response.status_code == 401
    assert message in response.json()["detail"]


def test_a_token_for_a_store_role_without_a_store_is_401():
    import jwt

    claims = {"sub": "emp-1", "role": "associate", "region_id": "uusimaa", "iss": "retail-care", "aud": "retail-care",
              "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(hours=1)}
    bearer = jwt.encode(claims, SETTINGS.auth_signing_key.get_secret_value(), algorithm="HS256")
    response = get("/v1/stores/hel-kamppi/complaints", bearer)
    assert response.status_code == 401
    assert "needs store_id and region_id" in response.json()["detail"]


def signed(claims: dict) -> str:
    import jwt

    now = datetime.now(UTC)
    claims = {"iss": "retail-care", "aud": "retail-care", "iat": now, "exp": now + timedelta(hours=1), **claims}
    return jwt.encode(claims, SETTINGS.auth_signing_key.get_secret_value(), algorithm="HS256")


@pytest.mark.parametrize("sub", ["Aino Virtanen", "aino@example.com", "EMP-1042", "emp-1042\n", "e" * 64, "", "\u00e9mp-1"])
def test_a_token_whose_subject_is_not_a_staff_id_is_401_naming_the_claim(sub):
    bearer = signed({"sub": sub, "role": "associate", "region_id": "uusimaa", "store_id": "hel-kamppi"})
    response = get("/v1/stores/hel-kamppi/complaints", bearer)
    assert response.status_code == 401
    assert "sub" in response.json()["detail"] and "staff" in response.json()["detail"]


def test_a_subject_that_is_not_a_staff_id_gets_no_token():
    with pytest.raises(AuthError, match="sub"):
        mint_token(SETTINGS, sub="Aino Virtanen", role=Role.ops, now=datetime.now(UTC))


def test_the_metrics_role_reads_the_metrics_and_nothing_else():
    scraper = token(Role.metrics, region_id=None)
    assert get("/metrics", scraper).status_code == 200
    assert get("/v1/stores/hel-kamppi/complaints", scraper).status_code == 403
    assert get("/v1/regions/uusimaa/board", scraper).status_code == 403


def test_a_role_outside_the_allowed_ones_is_403():
    response = get("/v1/regions/uusimaa/board", token())
    assert response.status_code == 403
    assert response.json()["detail"] == "role associate may not do this; allowed: regional_coordinator"


def test_another_store_is_403():
    response = get("/v1/stores/tre-koskikeskus/complaints", token(Role.store_manager))
    assert response.status_code == 403
    assert "may not act on store tre-koskikeskus" in response.json()["detail"]


def test_another_region_is_403_and_the_own_region_is_200():
    coordinator = token(Role.regional_coordinator, region_id="uusimaa")
    assert get("/v1/regions/uusimaa/board", coordinator).status_code == 200
    response = get("/v1/regions/pirkanmaa/board", coordinator)
    assert response.status_code == 403
    assert "may not act on region pirkanmaa" in response.json()["detail"]


def test_chain_wide_roles_see_every_region_and_store():
    senior = Principal(sub="sm-1", role=Role.senior_manager)
    assert senior.scope_error(region_id="pirkanmaa", store_id="tre-koskikeskus") is None
    coordinator = Principal(sub="c-1", role=Role.coordinator, region_id="uusimaa")
    assert coordinator.scope_error(region_id="uusimaa", store_id="hel-kamppi") is None


def test_metrics_are_for_ops_and_services_only():
    assert get("/metrics", None).status_code == 401
    assert get("/metrics", token()).status_code == 403
    response = get("/metrics", token(Role.ops, region_id=None))
    assert response.status_code == 200
    assert "http_requests_total" in response.text


def test_health_needs_no_token_and_readiness_reports_each_check():
    assert get("/healthz", None).json() == {"status": "alive"}
    assert get("/readyz", None).json() == {"status": "ready", "checks": {}}


STRONG_KEYS = ["3f9c1a7be24d08c6915e7a2fd03b8c41e6a95d27b0f4c813a2e769d5c0b1f384",  # openssl rand -hex 32
               "kJ7q/Vd2+Xw9LpZ0sNfR4tYh6mBc1uGe8aQxTzWn3oHvE5yU"]  # openssl rand -base64 36


@pytest.mark.parametrize("key", STRONG_KEYS, ids=["hex", "base64"])
def test_production_takes_a_random_key(key):
    assert PlatformSettings(env="production", auth_signing_key=key).env == "production"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (DEVELOPMENT_SIGNING_KEY, "is the development key"),
        ("k7/Vd2+Xw9LpZ0sN", "at least 32 bytes"),
        ("x" * 40, "at least 12 distinct characters"),
        ("abcabcabcabcabcabcabcabcabcabcabcabcabc", "at least 12 distinct characters"),
        ("ChangeMe-please-for-production-2026!", "a placeholder"),
        ("our-retail-care-jwt-secret-for-production", "a placeholder"),
        ("Password1234567890Password1234567890", "a placeholder"),
    ],
    ids=["development", "short", "one-character", "repeated", "changeme", "secret", "password"],
)
def test_production_refuses_a_weak_signing_key_and_never_shows_it(key, reason, monkeypatch):
    monkeypatch.setenv("RETAIL_ENV", "production")
    monkeypatch.setenv("RETAIL_AUTH_SIGNING_KEY", key)
    with pytest.raises(ValidationError) as raised:
        PlatformSettings()  # as a service reads it at start-up
    shown = f"{raised.value}\n{raised.value!r}"  # what the start-up traceback prints
    assert reason in shown
    assert all(key[i:i + 12] not in shown for i in range(len(key) - 11)), shown
