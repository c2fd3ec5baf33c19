"""Odd values in queries, paths, cursors and bodies get a 4xx naming the field (or an answer), never
a 500, on SQLite and on real PostgreSQL; and on SQLite a write waits for a long one before it."""

import asyncio
import base64
import sqlite3
from uuid import UUID

import pytest

from services.shared.principal import Role
from tests.support.complaints import start_api


@pytest.fixture
def api(api_per_database):
    return api_per_database


# Fixed, not random: parallel workers must collect the same test ids.
SOME_ID = UUID("5f0c2d1e-8a4b-4c3d-9e2f-1a2b3c4d5e6f")


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def field_of(response) -> list:
    assert response.status_code == 422, response.text
    return response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(("name", "value"), [
    ("created_from", "0001-01-01"),
    ("created_from", "2026-01-01T00:00:00"),
    ("created_to", "9999-12-31T23:59:59-02:00"),
    ("created_to", "0001-01-01T00:00:00+02:00"),
    ("cursor", cursor_of(f"2026-01-01T00:00:00|{SOME_ID}")),
    ("cursor", cursor_of(f"0001-01-01T00:00:00+05:00|{SOME_ID}")),
    ("cursor", "garbage"),
    ("assignee", "mgr\x00"),
    ("store_id", "hel\x00"),
    ("region_id", "x" * 300),
])
async def test_a_bad_complaints_query_is_422_naming_the_parameter(api, name, value):
    response = await api.client.get("/v1/complaints", params={name: value}, headers=api.token(Role.senior_manager))
    assert field_of(response) == ["query", name]


async def test_a_huge_limit_is_capped_and_a_zone_aware_range_answers(api):
    staff = api.token(Role.associate)
    huge = await api.client.get("/v1/complaints", params={"limit": str(10**30)}, headers=staff)
    assert huge.status_code == 200, huge.text
    ranged = await api.client.get("/v1/complaints", headers=staff,
                                  params={"created_from": "2026-01-01T00:00:00+02:00", "created_to": "2099-12-31T23:59:59Z"})
    assert ranged.status_code == 200, ranged.text


@pytest.mark.parametrize(("name", "value"), [
    ("since", "0001-01-01"),
    ("until", "2026-01-01T00:00:00"),
    ("since", "9999-12-31T23:59:59-02:00"),
    ("cursor", "garbage"),
    ("cursor", str(2**64)),
    ("cursor", "-1"),
    ("limit", "0"),
    ("staff_id", "emp\x00"),
    ("complaint_id", "not-a-uuid"),
    ("customer_ref", "cref_nope"),
])
async def test_a_bad_contact_reads_query_is_422_naming_the_parameter(api, name, value):
    response = await api.client.get("/v1/contact-reads", params={name: value}, headers=api.token(Role.senior_manager))
    assert field_of(response) == ["query", name]


async def test_a_store_path_that_is_no_store_id_is_422(api):
    response = await api.client.get("/v1/stores/a%00b/return-policy", headers=api.token(Role.senior_manager))
    assert field_of(response) == ["path", "store_id"]


async def test_an_amount_beyond_any_till_is_422_naming_the_field(api):
    policy = {"return_window_days": 30, "receipt_required": True, "approval_amount_minor": 2**63,
              "allowed_tenders": ["cash"]}
    response = await api.client.put("/v1/return-policy", json=policy, headers=api.token(Role.service))
    assert field_of(response) == ["body", "approval_amount_minor"]


async def test_a_purchase_from_the_year_1_is_422_naming_the_field(api):
    body = {"store_id": "hel-kamppi", "kind": "refund", "tender": "credit", "amount": {"minor_units": 1990},
            "product_category": "clothing", "purchased_on": "0001-01-01", "receipt_number": "R-1"}
    response = await api.client.post("/v1/returns", json=body, headers=api.token(Role.associate))
    assert field_of(response) == ["body", "purchased_on"]


async def test_a_nul_character_in_a_text_field_is_422_naming_the_field(api):
    response = await api.file(description="It leaks\x00")
    assert field_of(response) == ["body", "description"]
    note = await api.client.post(f"/v1/complaints/{(await api.file()).json()['id']}/notes", json={"text": "\x00"},
                                 headers=api.token(Role.associate))
    assert field_of(note) == ["body", "text"]


OLD_SQLITE_BUSY_TIMEOUT_S = 5


async def test_on_sqlite_a_write_waits_for_a_longer_one_before_it_instead_of_failing(tmp_path, platform):
    path = tmp_path / "complaints.db"
    async for api in start_api(f"sqlite:///{path}", platform, relay_enabled=False):
        other_writer = sqlite3.connect(path, isolation_level=None)
        try:
            other_writer.execute("BEGIN IMMEDIATE")
            filing = asyncio.create_task(api.file())
            # The scenario itself, not a wait for something: another writer holding the database
            # longer than SQLite's busy timeout used to be.
            await asyncio.sleep(OLD_SQLITE_BUSY_TIMEOUT_S + 1)
            other_writer.execute("COMMIT")
            assert (await filing).status_code == 201
        finally:
            other_writer.close()
