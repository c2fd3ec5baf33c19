import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.shared.auth import Authorize, mint_token
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


def test_production_refuses_the_development_key():
    with pytest.raises(ValidationError, match="development key"):
        PlatformSettings(env="production", auth_signing_key=DEVELOPMENT_SIGNING_KEY)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        PlatformSettings(env="production", auth_signing_key="short")
    assert PlatformSettings(env="production", auth_signing_key="x" * 40).env == "production"
