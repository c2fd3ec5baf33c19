"""Each routing rule, through the complaints API and the worker on the real broker: who gets the
complaint and why, from the store's on-duty roster and the region's rules."""

import pytest

from services.shared.topics import ESCALATIONS, ROSTER
from tests.support import eventually, read_topic
from tests.support.complaints import add_stores
from tests.support.escalation import publish_roster

REGION, STORE, UNSTAFFED = "satakunta", "pori-keskusta", "rauma-otava"
ON_DUTY = [("emp-5001", "associate"), ("crd-5002", "coordinator"), ("crd-5003", "coordinator"), ("mgr-5004", "store_manager")]
CALM = {"severity": "low", "mood": "calm", "category": "product_quality"}


@pytest.fixture(scope="module")
async def staffed(api, platform, worker):
    await add_stores(api, REGION, [STORE, UNSTAFFED])
    await publish_roster(platform, STORE, REGION, ON_DUTY)
    await publish_roster(platform, "hel-kamppi", "uusimaa", [("emp-1042", "associate"), ("mgr-0007", "store_manager")])
    await eventually(lambda: worker.has_read(ROSTER), timeout_s=90, what="the worker to read the rosters")


async def routed(api, platform, store: str = STORE, customer: str = "rules@example.com", **fields):
    response = await api.file(store=store, customer={"email": customer}, **({**CALM, **fields}))
    assert response.status_code == 201, response.text
    complaint_id = response.json()["id"]

    def decision(envelopes):
        return next((e.data for e in envelopes if e.type == "retail.escalation.routed.v1"
                     and str(e.data.complaint_id) == complaint_id), None)

    return decision(await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, decision))


@pytest.mark.parametrize(
    ("fields", "assignee", "reason"),
    [
        ({}, ("associate", "emp-5001"), "severity low → associate"),
        ({"severity": "high"}, ("coordinator", "crd-5002"), "severity high → coordinator"),
        ({"mood": "angry"}, ("store_manager", "mgr-5004"), "mood angry → store_manager"),
        ({"category": "staff_conduct", "staff_involved": "crd-5002"}, ("coordinator", "crd-5003"),
         "category staff_conduct → coordinator"),
        ({"category": "return_refund_exchange", "amount": {"minor_units": 25000, "currency": "EUR"}},
         ("store_manager", "mgr-5004"), "refund over 200.00 → store_manager"),
    ],
    ids=["severity", "severity-high", "mood", "staff-conduct-never-the-staff-member", "refund-amount"],
)
async def test_a_rule_routes_to_its_tier_and_the_person_on_duty(api, platform, staffed, fields, assignee, reason):
    decision = await routed(api, platform, customer=f"{reason[:8].replace(' ', '')}@example.com", **fields)
    assert (decision.assignee.tier, decision.assignee.staff_id) == assignee
    assert decision.reason == reason


async def test_a_region_overrides_the_chain_refund_threshold(api, platform, staffed):
    refund = {"category": "return_refund_exchange", "amount": {"minor_units": 25000, "currency": "EUR"}}
    decision = await routed(api, platform, store="hel-kamppi", customer="override@example.com", **refund)
    assert decision.assignee.tier == "associate", "uusimaa's threshold is 300.00"


async def test_a_customers_third_complaint_in_30_days_goes_to_the_coordinator(api, platform, staffed):
    tiers = [(await routed(api, platform, customer="thrice@example.com")).assignee.tier for _ in range(3)]
    assert tiers == ["associate", "associate", "coordinator"]
    fourth = await routed(api, platform, customer="thrice@example.com")
    assert "4 complaints by the customer in 30 days → coordinator" in fourth.reason


async def test_with_nobody_on_duty_the_regions_coordinator_gets_it_and_the_reason_says_so(api, platform, staffed):
    decision = await routed(api, platform, store=UNSTAFFED, customer="unstaffed@example.com")
    assert (decision.assignee.tier, decision.assignee.staff_id) == ("regional_coordinator", None)
    assert decision.reason == "severity low → associate; no associate on duty: the region's coordinator"
