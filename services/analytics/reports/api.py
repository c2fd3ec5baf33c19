"""The reports API. Every replica follows the analytics worker's `reports` table (its compacted
changelog: the stores' hourly and daily windows and open loss-prevention signals) from the start
into a database of its own on disk (`store`), so it needs no storage that outlives it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel, Field

from services.analytics.domain.reports import (
    LossPrevention, Satisfaction, Staffing, Sums, loss_prevention, satisfaction, staffing,
)
from services.analytics.domain.windows import Granularity, RangeError, start_of, windows_for
from services.analytics.reports.store import Found, ReportWindows
from services.analytics.settings import AnalyticsSettings
from services.analytics.topics import REPORTS_CHANGELOG
from services.shared.auth import Authorize
from services.shared.principal import REGION_ROLES, STORE_ROLES, Principal, Role
from services.shared.clock import Clock, utc_now
from services.shared.errors import InvalidField
from services.shared.events.fields import RegionId, StoreId, Timestamp
from services.shared.events.signals import LossPreventionSignal
from services.shared.kafka import follow
from services.shared.settings import PlatformSettings
from services.shared.topics import STORE_PARTITIONS
from services.shared.web import create_app

DEFAULT_RANGE = timedelta(hours=24)

# Staff-level signals are for the managers who act on them; summaries also for the coordinators.
Reader = Annotated[Principal, Depends(Authorize(Role.store_manager, Role.coordinator, Role.regional_coordinator,
                                                  Role.senior_manager))]
SignalReader = Annotated[Principal, Depends(Authorize(Role.store_manager, Role.regional_coordinator, Role.senior_manager))]
RegionQuery = Annotated[RegionId | None, Query(description="Defaults to the token's region; all regions for senior managers.")]
StoreQuery = Annotated[StoreId | None, Query(description="Defaults to the token's store for store roles; all stores otherwise.")]
# Times the contracts allow (this century): a report's arithmetic on them cannot overflow.
FromQuery = Annotated[Timestamp | None, Query(alias="from", description="Start (included): a whole hour, or a local "
                                              "midnight for daily windows. Defaults to 24 hours before `to`.")]
ToQuery = Annotated[Timestamp | None, Query(description="End (excluded), at most as far from `from` as the windows are kept "
                                            "(ANALYTICS_HOUR_WINDOWS_DAYS by the hour, ANALYTICS_DAY_WINDOWS_DAYS by the "
                                            "day). Defaults to the end of the current hour.")]


class Period(BaseModel):
    region_id: str | None
    store_id: str | None
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    granularity: Granularity
    stores: list[str] = Field(description="The stores with events in the period.")


class SatisfactionReport(BaseModel):
    period: Period
    satisfaction: Satisfaction


class LossPreventionReport(BaseModel):
    period: Period
    loss_prevention: LossPrevention


class StaffingReport(BaseModel):
    period: Period
    staffing: Staffing


class OpenSignalsReport(BaseModel):
    region_id: str | None
    store_id: str | None
    signals: list[LossPreventionSignal]


def build_app(settings: AnalyticsSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    windows, caught_up, rules = ReportWindows(), asyncio.Event(), settings.window_rules

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with windows.kept():
            following = asyncio.create_task(follow({REPORTS_CHANGELOG: STORE_PARTITIONS}, windows.apply, caught_up,
                                                   client_id="analytics-reports", settings=platform))
            try:
                yield
            finally:
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await following

    async def reports_ready() -> None:
        if not caught_up.is_set():
            raise ConnectionError("still reading the analytics worker's windows")

    app = create_app(service="analytics-reports", platform=platform, lifespan=lifespan, checks={"windows": reports_ready},
                     description="Satisfaction, loss-prevention and staffing reports by region or store and time "
                                 "range, and the open loss-prevention signals.")
    router = APIRouter(prefix="/v1/reports", tags=["reports"])

    def period(principal: Principal, region: str | None, store: str | None, first: datetime | None,
               end: datetime | None) -> tuple[Period, Found]:
        """The period a report covers, and each of its stores' windows in it."""
        region, store = scope(principal, region, store)
        end = end or start_of(clock(), Granularity.hour, rules.timezone) + timedelta(hours=1)
        first = first or end - DEFAULT_RANGE
        try:
            granularity, starts = windows_for(first, end, clock(), rules)
        except RangeError as error:
            raise InvalidField(error.field, str(error), location="query") from None
        found = windows.found(windows.stores(region, store), granularity, starts)
        stores = [name for name, kept in found.items() if kept]
        return Period(region_id=region, store_id=store, from_=first, to=end, granularity=granularity, stores=stores), found

    @router.get("/satisfaction", summary="Customer satisfaction in a region or store over a time range")
    async def satisfaction_report(principal: Reader, region_id: RegionQuery = None, store_id: StoreQuery = None,
                                  first: FromQuery = None, to: ToQuery = None) -> SatisfactionReport:
        scoped, found = period(principal, region_id, store_id, first, to)
        return SatisfactionReport(period=scoped, satisfaction=satisfaction(all_of(found)))

    @router.get("/loss-prevention", summary="Returns, refunds, exceptions and rejections in a region or store over a time range")
    async def loss_prevention_report(principal: Reader, region_id: RegionQuery = None, store_id: StoreQuery = None,
                                     first: FromQuery = None, to: ToQuery = None) -> LossPreventionReport:
        scoped, found = period(principal, region_id, store_id, first, to)
        return LossPreventionReport(period=scoped, loss_prevention=loss_prevention(all_of(found)))

    @router.get("/staffing", summary="Complaints per staffed hour in a region or store over a time range, by store and window")
    async def staffing_report(principal: Reader, region_id: RegionQuery = None, store_id: StoreQuery = None,
                              first: FromQuery = None, to: ToQuery = None) -> StaffingReport:
        scoped, found = period(principal, region_id, store_id, first, to)
        return StaffingReport(period=scoped, staffing=staffing(found))

    @router.get("/signals", summary="Open loss-prevention signals: staff members whose rates still stand out")
    async def open_signals(principal: SignalReader, region_id: RegionQuery = None, store_id: StoreQuery = None) -> OpenSignalsReport:
        region, store = scope(principal, region_id, store_id)
        found = [signal for key in windows.stores(region, store) if (kept := windows.signals(key)) is not None
                 for signal in kept.signals]
        return OpenSignalsReport(region_id=region, store_id=store, signals=sorted(found, key=lambda s: (s.store_id, s.at)))

    app.include_router(router)
    return app


def all_of(found: Found) -> Sums:
    return Sums(window for kept in found.values() for _, window in kept)


def scope(principal: Principal, region: str | None, store: str | None) -> tuple[str | None, str | None]:
    """The region and store a report covers: the token's own unless it names others it may see."""
    if principal.role in STORE_ROLES | REGION_ROLES:
        region = region or principal.region_id
    if principal.role in STORE_ROLES:
        store = store or principal.store_id
    principal.require_scope(region, store)
    return region, store
