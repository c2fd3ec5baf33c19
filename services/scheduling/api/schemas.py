"""Request and response bodies of the scheduling API. Contact channels appear only in a staff
member's directory entry, and only to those who need to know them."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, model_validator

from services.scheduling.domain.hours import Weekday
from services.scheduling.domain.shifts import ShiftStatus
from services.scheduling.service.directory import SiteSpec, StaffSpec
from services.scheduling.store.models import ShiftRow, StaffMember
from services.shared.events import fields
from services.shared.events.fields import RegionId, StaffId, StoreId, Tier, TimeZone
from services.shared.principal import Role

SiteId = StoreId
Instant = fields.Timestamp


def _in_platform_years(day: date) -> date:
    if not fields.EARLIEST.date() <= day < fields.LATEST.date():
        raise ValueError(f"must be from {fields.EARLIEST:%Y-%m-%d} to before {fields.LATEST:%Y-%m-%d}")
    return day


# A week named by its Monday, in the years instants are (Instant): the weeks around it are dates too.
Week = Annotated[date, AfterValidator(_in_platform_years)]

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _hours(pairs: list[list[str]]) -> list[list[str]]:
    for opens, closes in pairs:
        if not _CLOCK.match(opens) or not (_CLOCK.match(closes) or closes == "24:00"):
            raise ValueError("times are HH:MM, local; closing at midnight is 24:00")
        if closes != "24:00" and closes <= opens:
            raise ValueError(f"{opens}–{closes}: closes before it opens (split a night across two days)")
    return pairs


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _weekly(hours: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    return {day: hours[day] for day in sorted(hours, key=lambda day: Weekday[day])}


Hours = Annotated[list[Annotated[list[str], Field(min_length=2, max_length=2)]], Field(max_length=6), AfterValidator(_hours)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegionIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class SiteIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "region_id": "uusimaa", "name": "Kamppi", "kind": "store", "timezone": "Europe/Helsinki",
        "opening_hours": {"mon": [["09:00", "21:00"]], "sat": [["10:00", "18:00"]]},
        "exceptions": {"2026-12-25": []},
    }]})

    region_id: RegionId
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field("store", pattern=r"^(store|call_centre|service_desk)$")
    timezone: TimeZone
    opening_hours: dict[Day, Hours] = Field(
        description="Local opening times per weekday (mon…sun): [[opens, closes]], HH:MM; 24:00 is midnight."
    )
    exceptions: dict[date, Hours] = Field(default_factory=dict, max_length=400, description="Days that differ; [] is closed.")

    def spec(self) -> SiteSpec:
        return SiteSpec(
            self.region_id, self.name, self.kind, self.timezone,
            _weekly(self.opening_hours),
            {day.isoformat(): pairs for day, pairs in sorted(self.exceptions.items())},
        )


class SiteOut(BaseModel):
    site_id: SiteId
    region_id: RegionId
    name: str
    kind: str
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    exceptions: dict[str, list[list[str]]]


SKILLS = ("register_cash", "register_credit", "register_debit", "register_gift_card", "returns_exchanges",
          "de_escalation", "promotions")
SkillName = Annotated[str, Field(pattern=f"^({'|'.join(SKILLS)})$")]


class LeaveIn(Strict):
    first: date
    last: date

    @model_validator(mode="after")
    def _ordered(self) -> "LeaveIn":
        if self.last < self.first:
            raise ValueError("last is before first")
        return self


class Contact(Strict):
    work_email: EmailStr | None = None
    work_phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{5,20}$")
    webhook_url: HttpUrl | None = None


class StaffIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "role": "associate", "home_site_id": "hel-kamppi", "skills": ["register_cash", "returns_exchanges"],
        "hire_date": "2025-03-01", "contracted_hours": 30, "max_hours": 40,
        "availability": {"mon": [["08:00", "18:00"]]}, "leave": [{"first": "2026-12-21", "last": "2026-12-27"}],
        "contact": {"work_email": "emp-1042@chain.example", "work_phone": "+358 40 000 0000"},
    }]})

    role: Role
    home_site_id: SiteId
    skills: list[SkillName] = Field(default_factory=list, max_length=len(SKILLS))
    hire_date: date
    contracted_hours: int = Field(ge=0, le=80)
    max_hours: int = Field(ge=0, le=80)
    availability: dict[Day, Hours] = Field(default_factory=dict, description="Empty: available any time.")
    leave: list[LeaveIn] = Field(default_factory=list, max_length=100)
    contact: Contact = Field(default_factory=Contact, description="Work contact channels: personal data, need-to-know.")

    @model_validator(mode="after")
    def _hours_fit(self) -> "StaffIn":
        if self.contracted_hours > self.max_hours:
            raise ValueError("contracted_hours is more than max_hours")
        if self.role in (Role.ops, Role.service, Role.metrics):
            raise ValueError(f"role {self.role} is not a staff role")
        return self

    def spec(self) -> StaffSpec:
        return StaffSpec(
            self.role.value, self.home_site_id, list(self.skills), self.hire_date, self.contracted_hours, self.max_hours,
            _weekly(self.availability),
            [{"first": away.first.isoformat(), "last": away.last.isoformat()} for away in self.leave],
            self.contact.work_email, self.contact.work_phone,
            str(self.contact.webhook_url) if self.contact.webhook_url else None,
        )


class StaffOut(BaseModel):
    staff_id: StaffId
    role: Role
    home_site_id: SiteId
    region_id: RegionId
    skills: list[str]
    hire_date: date
    contracted_hours: int
    max_hours: int
    availability: dict[str, list[list[str]]]
    leave: list[dict[str, str]]
    contact: Contact | None = Field(None, description="Shown only to the person and their managers.")
    contact_erased_at: datetime | None = None


def staff_out(staff: StaffMember, with_contact: bool) -> StaffOut:
    contact = Contact(work_email=staff.work_email, work_phone=staff.work_phone, webhook_url=staff.webhook_url)
    return StaffOut(
        staff_id=staff.id, role=Role(staff.role), home_site_id=staff.home_site_id, region_id=staff.region_id,
        skills=staff.skills, hire_date=staff.hire_date, contracted_hours=staff.contracted_hours,
        max_hours=staff.max_hours, availability=staff.availability, leave=staff.leave,
        contact=contact if with_contact else None, contact_erased_at=staff.contact_erased_at,
    )


class ShiftIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "site_id": "hel-kamppi", "staff_id": "emp-1042", "starts_at": "2026-12-07T08:00:00+02:00",
        "ends_at": "2026-12-07T16:00:00+02:00",
    }]})

    site_id: SiteId
    staff_id: StaffId
    starts_at: Instant
    ends_at: Instant


class ShiftChange(Strict):
    starts_at: Instant | None = None
    ends_at: Instant | None = None


class ShiftOut(BaseModel):
    shift_id: UUID
    site_id: SiteId
    region_id: RegionId
    staff_id: StaffId
    role: Tier
    starts_at: datetime
    ends_at: datetime
    week: date
    status: ShiftStatus


def shift_out(row: ShiftRow) -> ShiftOut:
    return ShiftOut(
        shift_id=row.id, site_id=row.site_id, region_id=row.region_id, staff_id=row.staff_id, role=Tier(row.role),
        starts_at=row.starts_at.astimezone(UTC), ends_at=row.ends_at.astimezone(UTC), week=row.week_start, status=ShiftStatus(row.status),
    )


class WeekPublished(BaseModel):
    site_id: SiteId
    week: date
    published: list[ShiftOut]


class Person(BaseModel):
    staff_id: StaffId
    role: Tier
    starts_at: datetime
    ends_at: datetime


class SiteOnDutyOut(BaseModel):
    site_id: SiteId
    region_id: RegionId
    manager: Person | None = Field(description="The manager-level person on duty (store manager), if any.")
    coordinators: list[Person]
    associates: list[Person]


class RegionOnDutyOut(BaseModel):
    region_id: RegionId
    regional_coordinator: Person | None


class OnDutyOut(BaseModel):
    at: datetime
    sites: list[SiteOnDutyOut]
    regions: list[RegionOnDutyOut]


class Problem(BaseModel):
    detail: object


ERRORS: dict[int | str, dict] = {
    401: {"model": Problem, "description": "No valid bearer token"},
    403: {"model": Problem, "description": "The role or the region/site scope does not allow it"},
    404: {"model": Problem, "description": "No such resource"},
    413: {"model": Problem, "description": "The request body is too large"},
}
