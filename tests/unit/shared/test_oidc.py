"""Sign-in through an OpenID Connect provider, without a network: how its claims map to a caller, how
its keys are cached and fetched again, and what the shared key may still sign in production."""

from datetime import UTC, datetime
from typing import Annotated

import httpx
import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.shared.auth import (
    AuthError,
    Authorize,
    authenticate,
    mint_token,
    principal_from_claims,
    verify_token,
)
from services.shared.jwks import KeysUnavailable, SigningKeys, UnknownKey
from services.shared.principal import Principal, Role
from services.shared.settings import PlatformSettings
from services.shared.web import create_app
from tests.support.identity_provider import (
    AUDIENCE,
    DISCOVERY_PATH,
    JWKS_PATH,
    IdentityProvider,
    new_key,
)

PROVIDER = IdentityProvider()
STRONG_KEY = "kJ7q/Vd2+Xw9LpZ0sNfR4tYh6mBc1uGe8aQxTzWn3oHvE5yU"


def settings(**overrides) -> PlatformSettings:
    return PlatformSettings(**{"oidc_issuer": PROVIDER.issuer, "oidc_audience": AUDIENCE, **overrides})


GROUPS = settings(oidc_role_claim="groups", oidc_subject_claim="employee_id", oidc_role_map={
    "retail-associates": "associate", "retail-store-managers": "store_manager",
    "retail-regional-coordinators": "regional_coordinator", "retail-leadership": "senior_manager",
})


# The claims


def test_our_role_names_in_the_default_claims_make_the_caller():
    claims = {"sub": "emp-1042", "retail_role": "associate", "retail_region": "uusimaa", "retail_site": "hel-kamppi",
              "exp": 4102444800}
    principal = principal_from_claims(claims, settings())
    assert principal == Principal(sub="emp-1042", role=Role.associate, region_id="uusimaa", store_id="hel-kamppi",
                                  exp=datetime(2100, 1, 1, tzinfo=UTC))


def test_the_one_mapped_group_is_the_role_and_other_groups_are_ignored():
    claims = {"employee_id": "mgr-0007", "groups": ["everyone", "vpn-users", "retail-store-managers"],
              "retail_region": "uusimaa", "retail_site": "hel-kamppi"}
    assert principal_from_claims(claims, GROUPS).role is Role.store_manager


def test_with_a_role_map_only_the_mapped_values_count():
    claims = {"employee_id": "emp-1", "groups": "senior_manager"}
    with pytest.raises(AuthError, match="'groups' claim names no role of this platform"):
        principal_from_claims(claims, GROUPS)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"employee_id": "emp-1"}, "the token lacks the 'groups' claim"),
        ({"employee_id": "emp-1", "groups": []}, "names no role of this platform"),
        ({"employee_id": "emp-1", "groups": ["retail-associates", "retail-leadership"]},
         "names several roles (associate, senior_manager); give the person one"),
        ({"employee_id": "emp-1", "groups": ["retail-associates"], "retail_region": "uusimaa"},
         "a token for role associate needs the 'retail_site' and 'retail_region' claims"),
        ({"employee_id": "emp-1", "groups": ["retail-associates"], "retail_site": "hel-kamppi"},
         "a token for role associate needs the 'retail_site' and 'retail_region' claims"),
        ({"employee_id": "emp-1", "groups": ["retail-regional-coordinators"]},
         "a token for role regional_coordinator needs the 'retail_region' claim"),
        ({"groups": ["retail-leadership"], "sub": "emp-1"}, "the token lacks the 'employee_id' claim"),
        ({"employee_id": "Aino.Virtanen@chain.example", "groups": ["retail-leadership"]},
         "the token's employee_id claim is not a staff or service id"),
        ({"employee_id": "emp-1", "groups": ["retail-associates"], "retail_region": "uusimaa",
          "retail_site": "Helsinki Kamppi"}, "the token's retail_site claim is not a store id"),
    ],
    ids=["no-role", "no-group", "two-roles", "store-role-without-site", "store-role-without-region",
         "region-role-without-region", "no-subject", "subject-not-a-staff-id", "site-not-a-store-id"],
)
def test_claims_that_name_nobody_we_know_are_refused_naming_the_claim(claims, message):
    with pytest.raises(AuthError) as refused:
        principal_from_claims(claims, GROUPS)
    assert message in str(refused.value)


def test_a_chain_wide_role_carries_no_region_or_store_from_the_provider():
    claims = {"employee_id": "sm-0001", "groups": ["retail-leadership"], "retail_region": "uusimaa",
              "retail_site": "hel-kamppi"}
    assert principal_from_claims(claims, GROUPS) == Principal(sub="sm-0001", role=Role.senior_manager)


def test_a_region_role_carries_its_region_and_no_store():
    claims = {"employee_id": "rc-0001", "groups": ["retail-regional-coordinators"], "retail_region": "pirkanmaa",
              "retail_site": "tre-koskikeskus"}
    assert principal_from_claims(claims, GROUPS) == Principal(sub="rc-0001", role=Role.regional_coordinator,
                                                              region_id="pirkanmaa")


def test_a_dotted_claim_name_reaches_into_an_object_as_keycloak_nests_roles():
    keycloak = settings(oidc_role_claim="realm_access.roles", oidc_role_map={"ops-team": "ops"})
    claims = {"sub": "ops-0001", "realm_access": {"roles": ["offline_access", "ops-team"]}}
    assert principal_from_claims(claims, keycloak).role is Role.ops


def test_a_claim_named_by_a_url_is_read_whole_as_auth0_namespaces_them():
    auth0 = settings(oidc_role_claim="https://retail.example/role")
    assert principal_from_claims({"sub": "ops-0001", "https://retail.example/role": "ops"}, auth0).role is Role.ops


# The provider's keys


class FakeProvider:
    """The provider's HTTP answers without a network; `down` makes every request fail."""

    def __init__(self, provider: IdentityProvider = PROVIDER) -> None:
        self.provider, self.down, self.requests = provider, False, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("connection refused")
        path = request.url.path.removeprefix(httpx.URL(self.provider.issuer).path)
        document = self.provider.documents().get(path)
        return httpx.Response(200, json=document) if document else httpx.Response(404)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keys_of(fake: FakeProvider, clock: Clock, **overrides) -> SigningKeys:
    return SigningKeys(settings(**overrides), clock=clock, transport=httpx.MockTransport(fake))


async def test_keys_are_found_by_discovery_and_served_from_the_cache_until_they_expire():
    fake, clock = FakeProvider(), Clock()
    keys = keys_of(fake, clock, oidc_jwks_ttl_s=600)
    kid = PROVIDER.keys[0].kid
    for _ in range(5):
        assert (await keys.get(kid)).key_id == kid
    assert fake.requests == ["/realms/chain" + DISCOVERY_PATH, "/realms/chain" + JWKS_PATH]
    clock.now += 600
    await keys.get(kid)
    assert len(fake.requests) == 3  # the JWKS again; the discovery document only once


async def test_a_configured_jwks_url_needs_no_discovery():
    fake, clock = FakeProvider(), Clock()
    await keys_of(fake, clock, oidc_jwks_url=PROVIDER.jwks_url).get(PROVIDER.keys[0].kid)
    assert fake.requests == ["/realms/chain" + JWKS_PATH]


async def test_an_unknown_key_fetches_the_keys_again_at_most_once_per_interval():
    provider = IdentityProvider()
    fake, clock = FakeProvider(provider), Clock()
    keys = keys_of(fake, clock, oidc_jwks_url=provider.jwks_url, oidc_jwks_refresh_min_s=60)
    await keys.get(provider.keys[0].kid)
    for n in range(50):
        with pytest.raises(UnknownKey):
            await keys.get(f"made-up-{n}")
    assert len(fake.requests) == 1  # the flood cost the provider nothing

    rotated = provider.rotate()
    with pytest.raises(UnknownKey):  # too soon after the last fetch
        await keys.get(rotated.kid)
    clock.now += 60
    assert (await keys.get(rotated.kid)).key_id == rotated.kid
    assert len(fake.requests) == 2


async def test_a_provider_that_cannot_be_reached_leaves_the_keys_fetched_before_in_use():
    fake, clock = FakeProvider(), Clock()
    keys = keys_of(fake, clock, oidc_jwks_url=PROVIDER.jwks_url, oidc_jwks_ttl_s=60, oidc_jwks_refresh_min_s=10)
    kid = PROVIDER.keys[0].kid
    await keys.get(kid)
    fake.down, clock.now = True, clock.now + 60
    assert (await keys.get(kid)).key_id == kid
    assert (await keys.get(kid)).key_id == kid
    assert len(fake.requests) == 2  # retried no oftener than every 10 s


async def test_a_provider_never_reached_makes_sign_in_unavailable():
    fake, clock = FakeProvider(), Clock()
    fake.down = True
    keys = keys_of(fake, clock)
    for _ in range(3):
        with pytest.raises(KeysUnavailable):
            await keys.get("any")
    assert len(fake.requests) == 1


async def test_a_discovery_document_of_another_issuer_is_not_trusted():
    impostor = IdentityProvider(issuer="https://idp.evil.test/realms/chain")
    fake = FakeProvider(impostor)
    keys = SigningKeys(settings(oidc_issuer=impostor.issuer + "/"), clock=Clock(), transport=httpx.MockTransport(fake))
    with pytest.raises(KeysUnavailable):
        await keys.get(impostor.keys[0].kid)


# Tokens


async def test_a_token_of_the_provider_authenticates_and_other_signatures_name_their_problem():
    keys = keys_of(FakeProvider(), Clock())
    claims = {"sub": "ops-0001", "retail_role": "ops"}
    assert (await authenticate(PROVIDER.token(claims), settings(), keys)).role is Role.ops

    es256 = new_key("ES256", kid=PROVIDER.keys[0].kid)
    with pytest.raises(AuthError, match="token algorithm 'ES256' is not accepted; tokens are signed with HS256, RS256"):
        await authenticate(PROVIDER.token(claims, key=es256), settings(), keys)
    with pytest.raises(AuthError, match="names no signing key"):
        await authenticate(PROVIDER.token(claims, kid=""), settings(), keys)
    with pytest.raises(AuthError, match="not a well-formed JWT"):
        await authenticate("eyJ.not.a.jwt", settings(), keys)


async def test_without_a_provider_only_the_shared_key_is_known():
    token = PROVIDER.token({"sub": "ops-0001", "retail_role": "ops"})
    with pytest.raises(AuthError, match="token algorithm 'RS256' is not accepted; tokens are signed with HS256"):
        await authenticate(token, PlatformSettings(), None)


PRODUCTION = PlatformSettings(env="production", auth_signing_key=STRONG_KEY)
NOW = datetime.now(UTC)


@pytest.mark.parametrize("role", [Role.service, Role.metrics])
def test_in_production_the_shared_key_signs_the_platforms_own_tokens(role):
    assert verify_token(mint_token(PRODUCTION, sub="svc-notifications", role=role, now=NOW), PRODUCTION).role is role


def test_in_production_the_shared_key_signs_no_persons_token():
    token = mint_token(PRODUCTION, sub="mgr-0007", role=Role.store_manager, region_id="uusimaa", store_id="hel-kamppi",
                       now=NOW)
    with pytest.raises(AuthError, match="a token for role store_manager must come from the identity provider"):
        verify_token(token, PRODUCTION)
    development = PlatformSettings(auth_signing_key=STRONG_KEY)
    assert verify_token(token, development).role is Role.store_manager


def test_in_production_a_service_may_act_for_a_person():
    token = mint_token(PRODUCTION, sub="mgr-0007", role=Role.store_manager, region_id="uusimaa", store_id="hel-kamppi",
                       now=NOW, actor="svc-notifications")
    assert verify_token(token, PRODUCTION).model_dump() == {"sub": "mgr-0007", "role": Role.store_manager,
                                                            "region_id": "uusimaa", "store_id": "hel-kamppi"}


def test_the_route_answers_503_while_the_providers_keys_cannot_be_had():
    app = create_app(service="test", platform=settings(), checks={})

    @app.get("/v1/whoami")
    def whoami(who: Annotated[Principal, Depends(Authorize(Role.ops))]):
        return {"sub": who.sub}

    fake = FakeProvider()
    fake.down = True
    app.state.signing_keys = SigningKeys(settings(), clock=Clock(), transport=httpx.MockTransport(fake))
    client = TestClient(app)
    token = PROVIDER.token({"sub": "ops-0001", "retail_role": "ops"})
    response = client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and "identity provider" in response.json()["detail"]
    fake.down = False
    app.state.signing_keys = SigningKeys(settings(), clock=Clock(), transport=httpx.MockTransport(fake))
    assert client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}).json() == {"sub": "ops-0001"}


# Settings


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"oidc_issuer": "https://idp.example"}, "RETAIL_OIDC_ISSUER needs RETAIL_OIDC_AUDIENCE"),
        ({"oidc_jwks_url": "https://idp.example/keys"}, "need RETAIL_OIDC_ISSUER"),
        ({"oidc_issuer": "https://idp.example", "oidc_audience": "api", "oidc_role_map": {"staff": "cashier"}},
         "oidc_role_map"),
        ({"oidc_issuer": "https://idp.example", "oidc_audience": "api", "oidc_algorithms": ["HS256"]},
         "oidc_algorithms"),
        ({"env": "production", "auth_signing_key": STRONG_KEY, "oidc_issuer": "http://idp.example",
          "oidc_audience": "api"}, "RETAIL_OIDC_ISSUER must be an https URL"),
        ({"env": "production", "auth_signing_key": STRONG_KEY, "oidc_issuer": "https://idp.example",
          "oidc_audience": "api", "oidc_jwks_url": "http://idp.example/keys"}, "RETAIL_OIDC_JWKS_URL must be an https"),
    ],
    ids=["no-audience", "no-issuer", "unknown-role", "shared-secret-algorithm", "http-issuer", "http-jwks"],
)
def test_a_provider_is_configured_whole_and_over_tls(overrides, message):
    with pytest.raises(ValidationError, match=message):
        PlatformSettings(**overrides)


def test_the_provider_may_be_on_this_machine_over_http_and_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RETAIL_OIDC_ISSUER", "http://127.0.0.1:8080/realms/chain")
    monkeypatch.setenv("RETAIL_OIDC_AUDIENCE", "retail-care-api")
    monkeypatch.setenv("RETAIL_OIDC_ALGORITHMS", '["RS256", "ES256"]')
    monkeypatch.setenv("RETAIL_OIDC_ROLE_MAP", '{"retail-store-managers": "store_manager"}')
    loaded = PlatformSettings(env="production", auth_signing_key=STRONG_KEY)
    assert loaded.oidc_algorithms == ["RS256", "ES256"]
    assert loaded.oidc_role_map == {"retail-store-managers": Role.store_manager}
