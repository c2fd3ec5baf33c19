"""Topic `roster` (compacted): the latest on-duty roster of each store, keyed by store_id."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.shared.events.envelope import StoreEvent
from services.shared.events.fields import MAX_ITEMS, StaffId, Tier, Timestamp


class OnDuty(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    staff_id: StaffId
    role: Tier
    starts_at: Timestamp
    ends_at: Timestamp


class RosterPublished(StoreEvent):
    """The whole on-duty roster of a store from `valid_from` on; each one replaces the last."""

    event_type: ClassVar[str] = "retail.roster.published.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_id": "hel-kamppi",
                    "region_id": "uusimaa",
                    "valid_from": "2026-11-23T00:00:00Z",
                    "on_duty": [
                        {
                            "staff_id": "mgr-0007",
                            "role": "store_manager",
                            "starts_at": "2026-11-23T08:00:00Z",
                            "ends_at": "2026-11-23T16:00:00Z",
                        },
                        {
                            "staff_id": "emp-1042",
                            "role": "associate",
                            "starts_at": "2026-11-23T08:00:00Z",
                            "ends_at": "2026-11-23T16:00:00Z",
                        },
                    ],
                }
            ]
        }
    )

    valid_from: Timestamp
    on_duty: list[OnDuty] = Field(default_factory=list, max_length=MAX_ITEMS)


EVENTS = (RosterPublished,)
