"""Every HTTP service as operators run it, fuzzed from its own OpenAPI document by schemathesis, with
valid and invalid requests and a token of every role: no answer is a server error, and a documented
answer has its documented shape.

RETAIL_FUZZ_CASES sets the cases per service (`make faults` asks for at least 1,000); the cases are
drawn from a fixed seed, so a run is repeatable."""

import asyncio
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

from services.escalation.topics import INTERNAL_TOPICS
from services.shared.auth import mint_token
from services.shared.kafka import ensure_topics
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.shared.topics import ALL_TOPICS
from tests.support import eventually
from tests.support.faults import DATABASES, all_ready, platform_services

CASES = int(os.environ.get("RETAIL_FUZZ_CASES", "60"))
REGION, STORE = "uusimaa", "hel-kamppi"
FUZZED = ["complaints", "boards", "reports", "scheduling", "notifications",
          "escalation", "analytics", "complaints-worker", "scheduling-worker"]  # the last four: the workers' own HTTP apps
SITE = {"region_id": REGION, "name": "Kamppi", "timezone": "Europe/Helsinki", "opening_hours": {"mon": [["09:00", "21:00"]]}}


@dataclass
class Findings:
    cases: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # what failed → the request that showed it


def bearer(platform, role: Role) -> str:
    scope = {"region_id": REGION} if role in REGION_ROLES | STORE_ROLES else {}
    if role in STORE_ROLES:
        scope["store_id"] = STORE
    return mint_token(platform, sub=f"fuzz-{role.replace('_', '-')}", role=role, now=datetime.now(UTC),
                      ttl=timedelta(hours=2), **scope)


def inputs(operation) -> int:
    return len(list(operation.iter_parameters())) + len(operation.get_request_payload_content_types())


def fuzz(url: str, tokens: dict[Role, str], cases: int) -> Findings:
    """Runs `cases` generated requests spread over the service's operations, or as many distinct
    ones as there are: an operation that runs out of them leaves its share to the next ones, so the
    operations with the fewest parameters go first."""
    # A stream of server-sent events never ends; its authorization is the board's, fuzzed with it.
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").exclude(path_regex="/stream$")
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=inputs)
    findings = Findings()
    for left, operation in zip(range(len(operations), 0, -1), operations):
        requests = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))

        @settings(max_examples=max(1, math.ceil((cases - findings.cases) / left)), derandomize=True, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=requests, role=st.sampled_from(list(Role)))
        def run(case, role):
            findings.cases += 1
            response = case.call(base_url=url, headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=30)
            try:
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            except AssertionError as failure:  # keep going: the run reports every kind of failure once
                findings.failures.setdefault(f"{operation.label}: {str(failure).splitlines()[0]}", case.as_curl_command())

        run()
    return findings


@pytest.fixture(scope="module")
async def services(platform, new_database, tmp_path_factory):
    """Every process of the platform on the session's broker, ready, with a region and store of its own."""
    databases = {name: await new_database() for name in DATABASES}
    running = platform_services(platform, databases, tmp_path_factory.mktemp("fuzz"))
    await asyncio.to_thread(ensure_topics, platform, [*ALL_TOPICS, *INTERNAL_TOPICS])
    for service in running:
        service.start()
    try:
        await eventually(lambda: all_ready(running), timeout_s=120, what="every process to be ready")
        by_name = {service.name: service for service in running}
        admin = {"Authorization": f"Bearer {bearer(platform, Role.service)}"}
        async with httpx.AsyncClient(base_url=by_name["complaints"].url, headers=admin) as client:
            assert (await client.put(f"/v1/regions/{REGION}", json={"name": "Uusimaa"})).status_code == 204
            assert (await client.put(f"/v1/stores/{STORE}", json={"region_id": REGION, "name": "Kamppi"})).status_code == 204
        async with httpx.AsyncClient(base_url=by_name["scheduling"].url, headers=admin) as client:
            assert (await client.put(f"/v1/regions/{REGION}", json={"name": "Uusimaa"})).status_code == 204
            assert (await client.put(f"/v1/sites/{STORE}", json=SITE)).status_code == 204
        yield by_name
    finally:
        for service in running:
            service.stop()


@pytest.mark.parametrize("name", FUZZED)
async def test_no_generated_request_gets_a_server_error_or_an_undocumented_shape(services, platform, name, record_property):
    service = services[name]
    tokens = {role: bearer(platform, role) for role in Role}
    findings = await asyncio.to_thread(fuzz, service.url, tokens, CASES)
    record_property("fuzz_cases", findings.cases)  # fewer than asked where an operation has fewer distinct requests
    assert not findings.failures, "\n\n".join(f"{what}\n  {request}" for what, request in findings.failures.items()) + (
        f"\n\n{name}'s log:\n{service.last_words(200)}"
    )
