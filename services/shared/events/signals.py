"""Topic `analytics.signals`: loss-prevention signals about one staff member, keyed by store_id."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field

from services.shared.events.envelope import StoreEvent
from services.shared.events.fields import MAX_COUNT, StaffId, Timestamp


class LossMetric(StrEnum):
    policy_exception_rate = "policy_exception_rate"
    no_receipt_rate = "no_receipt_rate"


class LossPreventionSignal(StoreEvent):
    """A staff member's rate stands out against the store's peers (robust z-score on median/MAD)."""

    event_type: ClassVar[str] = "retail.lossprevention.signal.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_id": "hel-kamppi",
                    "region_id": "uusimaa",
                    "signal_id": "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
                    "staff_id": "emp-1042",
                    "metric": "policy_exception_rate",
                    "value": 0.31,
                    "peer_median": 0.05,
                    "robust_z": 5.2,
                    "window_start": "2026-11-16T00:00:00Z",
                    "window_end": "2026-11-23T00:00:00Z",
                    "at": "2026-11-23T00:00:10Z",
                }
            ]
        }
    )

    signal_id: UUID
    staff_id: StaffId
    metric: LossMetric
    value: float = Field(ge=0, le=MAX_COUNT, allow_inf_nan=False)
    peer_median: float = Field(ge=0, le=MAX_COUNT, allow_inf_nan=False)
    robust_z: float = Field(ge=-MAX_COUNT, le=MAX_COUNT, allow_inf_nan=False)
    window_start: Timestamp
    window_end: Timestamp
    at: Timestamp


EVENTS = (LossPreventionSignal,)
