"""A complaint's timeline as its page lists it: history, notes and deliveries in the order they
happened, whatever the form of their times, with the summary on the last resolution only."""

from services.webapp.timeline import timeline


def history(event: str, at: str, **values) -> dict:
    return {"event": event, "at": at, "by": values.get("by"), "tier": values.get("tier"),
            "assignee": values.get("assignee"), "reason": values.get("reason")}


def test_steps_from_each_source_are_listed_in_the_order_they_happened():
    complaint = {
        "history": [
            history("complaint.filed", "2026-11-30T09:00:00Z", by="emp-1"),
            history("escalation.raised", "2026-11-30T09:16:00.5+00:00", tier="store_manager", reason="deadline passed"),
            history("complaint.resolved", "2026-11-30T10:00:00Z", by="mgr-1"),
            history("complaint.reopened", "2026-11-30T11:00:00Z", by="emp-1"),
            history("complaint.resolved", "2026-11-30T12:00:00Z", by="mgr-1"),
        ],
        "notes": [{"created_at": "2026-11-30T09:10:00+00:00", "author": "emp-1", "text": "Called back."}],
        "resolution_summary": "Replaced the kettle.",
    }
    deliveries = [{"sent_at": None, "created_at": "2026-11-30T09:16:01Z", "kind": "tier_raise", "staff_id": "mgr-1",
                   "channel": "sms", "step": 0, "status": "pending"}]

    steps = timeline(complaint, deliveries)

    assert [step.key for step in steps] == [
        "history.complaint.filed", "timeline.note", "history.escalation.raised", "timeline.delivery.tier_raise",
        "history.complaint.resolved", "history.complaint.reopened", "history.complaint.resolved",
    ]
    assert [step.quote for step in steps if step.quote] == ["Called back.", "Replaced the kettle."]
    assert steps[2].reason == "deadline passed" and steps[2].values["tier"] == "store_manager"


def test_a_complaint_with_nothing_but_its_filing_and_no_word_on_deliveries():
    steps = timeline({"history": [history("complaint.filed", "2026-11-30T09:00:00Z", by="emp-1")], "notes": []}, None)
    assert [(step.key, step.values["who"]) for step in steps] == [("history.complaint.filed", "emp-1")]
