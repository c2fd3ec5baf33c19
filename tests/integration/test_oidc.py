"""People sign in to the real complaints API (in-process, production settings) with tokens of a real
OpenID Connect provider: a local HTTP server publishing its discovery document and JWKS. The provider
rotates its key; forged, expired and misdirected tokens are refused; the shared key still signs the
platform's own tokens and no one else's."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.shared.auth import mint_token
from services.shared.jwks import SigningKeys
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from tests.support.complaints import Api, start_api
from tests.support.identity_provider import (
    AUDIENCE,
    DISCOVERY_PATH,
    JWKS_PATH,
    IdentityProvider,
    new_key,
    serving,
)

REFRESH_MIN_S = 60
ROLE_MAP = {"retail-associates": "associate", "retail-store-managers": "store_manager", "retail-ops": "ops"}
ASSOCIATE = {"sub": "emp-1042", "groups": ["everyone", "retail-associates"], "retail_region": "uusimaa",
             "retail_site": "hel-kamppi"}


class Clock:
    """The monotonic clock of the API's key cache, moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    with serving(IdentityProvider()) as running:
        yield running


@pytest.fixture(scope="module")
async def api(provider: IdentityProvider, tmp_path_factory) -> AsyncIterator[Api]:
    platform = PlatformSettings(
        env="production", auth_signing_key="kJ7q/Vd2+Xw9LpZ0sNfR4tYh6mBc1uGe8aQxTzWn3oHvE5yU",
        oidc_issuer=provider.issuer, oidc_audience=AUDIENCE, oidc_role_claim="groups", oidc_role_map=ROLE_MAP,
        oidc_algorithms=["RS256", "ES256"], oidc_jwks_refresh_min_s=REFRESH_MIN_S,
    )
    url = f"sqlite:///{tmp_path_factory.mktemp('oidc') / 'complaints.db'}"
    async for running in start_api(url, platform, relay_enabled=False, survey_delivery_enabled=False,
                                   customer_ref_key="Vq8z3LkP0xW7rT2mN5bY9cH4jF6gD1sAe0Rt"):
        yield running


@pytest.fixture
def clock(api: Api) -> Clock:
    """A fresh key cache on the API for each test, on a clock the test moves."""
    clock = Clock()
    api.app.state.signing_keys = SigningKeys(api.platform, clock=clock)
    return clock


async def file(api: Api, token: str, store: str = "hel-kamppi") -> httpx.Response:
    body = {"store_id": store, "customer": {"name": "Aino Virtanen", "email": "aino@example.com"},
            "channel": "in_store", "category": "product_quality", "severity": "medium", "mood": "upset",
            "description": "The kettle leaks."}
    return await api.client.post("/v1/complaints", json=body, headers={"Authorization": f"Bearer {token}"})


def refused(response: httpx.Response, reason: str) -> bool:
    return response.status_code == 401 and reason in response.json()["detail"] \
        and response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_person_signed_in_at_the_provider_files_at_their_own_store_only(api, provider, clock):
    before = dict(provider.requests)
    token = provider.token(ASSOCIATE)
    filed = await file(api, token)
    assert filed.status_code == 201, filed.text
    assert filed.json()["store_id"] == "hel-kamppi"
    other_store = await file(api, token, store="tre-koskikeskus")
    assert other_store.status_code == 403 and "may not act on store tre-koskikeskus" in other_store.json()["detail"]
    # The keys were found through the issuer's discovery document, once for both requests.
    assert provider.requests == {DISCOVERY_PATH: before[DISCOVERY_PATH] + 1, JWKS_PATH: before[JWKS_PATH] + 1}


async def test_the_provider_rotates_its_key_and_the_api_follows(api, provider, clock):
    old = provider.keys[0]
    before = provider.token(ASSOCIATE)
    assert (await file(api, before)).status_code == 201
    fetched = provider.requests[JWKS_PATH]

    new = provider.rotate()
    assert new.kid != old.kid
    clock.now += REFRESH_MIN_S  # some time after the last fetch, as any real rotation is
    after = await file(api, provider.token(ASSOCIATE))
    assert after.status_code == 201, after.text
    assert provider.requests[JWKS_PATH] == fetched + 1

    # The old key is no longer published, so what it signed is no longer believed.
    assert refused(await file(api, provider.token(ASSOCIATE, key=old)), "a key the identity provider does not publish")


async def test_tokens_naming_made_up_keys_cannot_flood_the_provider(api, provider, clock):
    assert (await file(api, provider.token(ASSOCIATE))).status_code == 201
    fetched = provider.requests[JWKS_PATH]
    for n in range(30):
        response = await file(api, provider.token(ASSOCIATE, kid=f"made-up-{n}"))
        assert refused(response, "does not publish")
    assert provider.requests[JWKS_PATH] == fetched


async def test_a_token_signed_by_another_key_under_the_providers_key_id_is_refused(api, provider, clock):
    forger = new_key()
    forged = provider.token(ASSOCIATE, key=forger, kid=provider.keys[0].kid)
    assert refused(await file(api, forged), "signature is invalid")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"now": datetime.now(UTC) - timedelta(hours=1)}, "the token has expired"),
        ({"audience": "another-app"}, f"the token is not meant for {AUDIENCE}"),
        ({"issuer": "https://idp.evil.test/realms/chain"}, "the token was not issued by http://127.0.0.1"),
    ],
    ids=["expired", "wrong-audience", "wrong-issuer"],
)
async def test_expired_and_misdirected_tokens_are_refused(api, provider, clock, overrides, reason):
    assert refused(await file(api, provider.token(ASSOCIATE, **overrides)), reason)


async def test_claims_the_platform_cannot_place_are_refused_naming_the_claim(api, provider, clock):
    no_site = {key: value for key, value in ASSOCIATE.items() if key != "retail_site"}
    assert refused(await file(api, provider.token(no_site)),
                   "a token for role associate needs the 'retail_site' and 'retail_region' claims")
    assert refused(await file(api, provider.token({**ASSOCIATE, "groups": ["everyone"]})),
                   "the token's 'groups' claim names no role of this platform")


async def test_an_es256_key_of_the_provider_is_accepted_too(api, provider, clock):
    provider.rotate("ES256")
    assert (await file(api, provider.token(ASSOCIATE))).status_code == 201


async def test_in_production_the_shared_key_signs_services_and_no_person(api, provider, clock):
    now = datetime.now(UTC)
    person = mint_token(api.platform, sub="emp-1042", role=Role.associate, region_id="uusimaa", store_id="hel-kamppi",
                        now=now)
    assert refused(await file(api, person), "a token for role associate must come from the identity provider")

    service = mint_token(api.platform, sub="svc-setup", role=Role.service, now=now)
    answer = await api.client.put("/v1/regions/uusimaa", json={"name": "Uusimaa"},
                                  headers={"Authorization": f"Bearer {service}"})
    assert answer.status_code == 204

    acting = mint_token(api.platform, sub="emp-1042", role=Role.associate, region_id="uusimaa", store_id="hel-kamppi",
                        now=now, actor="svc-notifications")
    assert (await file(api, acting)).status_code == 201
