"""A complaint's timeline as its page shows it: its history (events and the escalation's tier moves),
its notes and who was told of it and how, in the order they happened."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Step:
    at: str  # ISO 8601 in UTC, as the APIs give it
    key: str  # the words' key
    values: dict = field(default_factory=dict)  # filled into the words; "tier" and "channel" are translated
    quote: str | None = None  # the person's own words: a note, a resolution's summary
    reason: str | None = None  # the escalation rule's, in English


def timeline(complaint: dict, deliveries: list | None) -> list[Step]:
    steps = [_history(entry) for entry in complaint.get("history", [])]
    resolved = [step for step in steps if step.key == "history.complaint.resolved"]
    if resolved and complaint.get("resolution_summary"):  # the summary is the last resolution's
        last = resolved[-1]
        steps[steps.index(last)] = Step(last.at, last.key, last.values, complaint["resolution_summary"])
    steps += [Step(note["created_at"], "timeline.note", {"who": note["author"]}, note["text"])
              for note in complaint.get("notes", [])]
    steps += [
        Step(delivery["sent_at"] or delivery["created_at"], f"timeline.delivery.{delivery['kind']}",
             {"who": delivery["staff_id"], "channel": delivery["channel"] or "email", "step": delivery["step"],
              "status": delivery["status"]})
        for delivery in deliveries or []
    ]
    return sorted(steps, key=lambda step: datetime.fromisoformat(step.at))


def _history(entry: dict) -> Step:
    values = {"who": entry["by"], "assignee": entry["assignee"], "tier": entry["tier"]}
    return Step(entry["at"], f"history.{entry['event']}", values, reason=entry.get("reason"))
