"""Request bodies of the complaints API, each with the command it asks of the service layer, and
the problems it may answer."""

import base64
from datetime import date, datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationInfo, field_validator,
    model_validator,
)

from services.complaints.domain.lifecycle import Status
from services.complaints.domain.returns import ReturnPolicy, ReturnRequest
from services.complaints.service import commands
from services.shared.errors import InvalidField
from services.shared.events import fields
from services.shared.events.complaints import Category, Channel, Mood, Outcome, ResolutionSteps, Severity, Technique
from services.shared.events.coordination import LARGEST_RECEIPT_EXEMPTION_MINOR
from services.shared.events.fields import (
    Currency, CustomerRef, ProductCategory, RegionId, StaffId, StoreId, Tier, TimeZone,
)
from services.shared.events.returns import DeclineReason, NoReceiptReason, ReturnKind, Tender

Text = Annotated[str, Field(min_length=1, max_length=5000)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{5,20}$")]
LARGEST_AMOUNT_MINOR = 100_000_000


def _in_range(day: date) -> date:
    # The days an event can carry, so that the day counts computed from it stay within the contracts.
    if not fields.EARLIEST.date() <= day < fields.LATEST.date():
        raise ValueError(f"must be from {fields.EARLIEST:%Y-%m-%d} to before {fields.LATEST:%Y-%m-%d}")
    return day


Instant = fields.Timestamp
"""A time in a query: with its zone (such as 2026-11-30T09:00:00Z or +02:00), as in the events: 2000 to 2099."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


# The contracts' Money, bounded and strict as a request body (a docstring would change the API's schema).
class Money(fields.Money):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    minor_units: int = Field(ge=0, le=LARGEST_AMOUNT_MINOR, description="Amount in cents.")


class Contact(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not (self.email or self.phone):
            raise ValueError("give the customer's email or phone")
        return self

    def command(self) -> commands.Contact:
        return commands.Contact(name=self.name, email=self.email, phone=self.phone)


class NewComplaint(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_id": "hel-kamppi",
                    "customer": {"name": "Aino Virtanen", "email": "aino@example.com"},
                    "channel": "in_store",
                    "category": "return_refund_exchange",
                    "severity": "high",
                    "mood": "angry",
                    "description": "The kettle stopped working after two weeks and the refund was refused.",
                    "receipt_ref": "R-2026-118822",
                    "product_category": "small-appliances",
                    "amount": {"minor_units": 4990, "currency": "EUR"},
                }
            ]
        }
    )

    store_id: StoreId
    customer: Contact
    channel: Channel
    category: Category
    severity: Severity
    mood: Mood
    description: Text
    receipt_ref: Annotated[str, Field(max_length=64)] | None = None
    product_category: ProductCategory | None = None
    amount: Money | None = None
    staff_involved: StaffId | None = None

    def command(self) -> commands.FileComplaint:
        return commands.FileComplaint(**{**_fields(self), "customer": self.customer.command()})


class NoteIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'text': 'Called the customer back; the replacement ships Friday.'}]})

    text: Text

    def command(self) -> commands.AddNote:
        return commands.AddNote(**_fields(self))


class AssignIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'assignee': 'mgr-0007', 'assignee_role': 'store_manager'}]})

    assignee: StaffId
    assignee_role: Tier

    def command(self) -> commands.Assign:
        return commands.Assign(**_fields(self))


class StepsIn(Strict):
    defuse: bool = Field(description="Defused the situation.")
    isolate_core_problem: bool = Field(description="Isolated the core problem.")
    address_concerns: bool = Field(description="Addressed the customer's concerns.")


class ResolveIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        'technique': 'isolate_core_problem', 'outcome': 'exchange', 'summary': 'Exchanged the kettle for a new one.',
        'steps': {'defuse': True, 'isolate_core_problem': True, 'address_concerns': True},
    }]})

    technique: Technique = Field(description="The step of the technique that resolved it.")
    outcome: Outcome
    summary: Text
    steps: StepsIn | None = Field(
        default=None,
        description="Each step of the technique (defuse, isolate the core problem, address the concerns) taken or not; "
        "`technique` is one of those taken.",
    )

    @field_validator("steps")
    @classmethod
    def _technique_among_steps(cls, steps: StepsIn | None, info: ValidationInfo) -> StepsIn | None:
        technique = info.data.get("technique")  # absent when it was invalid itself
        if steps is not None and technique is not None and not getattr(steps, technique):
            raise ValueError(f"the technique {technique} is not among the steps taken (steps.{technique} is false)")
        return steps

    def command(self) -> commands.Resolve:
        steps = ResolutionSteps(**self.steps.model_dump()) if self.steps else None
        return commands.Resolve(technique=self.technique, outcome=self.outcome, summary=self.summary, steps=steps)


class ReopenIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'reason': 'The replacement kettle leaks too.'}]})

    reason: Text | None = None

    def command(self) -> commands.Reopen:
        return commands.Reopen(**_fields(self))


class CsatIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'score': 4, 'comment': 'Quick and friendly.'}]})

    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] | None = None

    def command(self) -> commands.AnswerSurvey:
        return commands.AnswerSurvey(**_fields(self))


class SurveyOut(BaseModel):
    store_name: str = Field(description="The store the complaint was made at, for the customer to recognise it.")
    answer_by: datetime


class ReturnIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_id": "hel-kamppi",
                    "kind": "refund",
                    "tender": "credit",
                    "amount": {"minor_units": 4990, "currency": "EUR"},
                    "product_category": "small-appliances",
                    "purchased_on": "2026-11-09",
                    "receipt_number": "R-2026-118822",
                }
            ]
        }
    )

    store_id: StoreId
    kind: ReturnKind
    tender: Tender
    amount: Money
    product_category: ProductCategory
    purchased_on: Annotated[date, AfterValidator(_in_range)]
    receipt_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    no_receipt_reason: NoReceiptReason | None = None
    complaint_id: UUID | None = None
    customer: Contact | None = None
    exception_reason: Text | None = Field(
        default=None, description="A store manager grants an exception to the broken rules with this reason."
    )

    @model_validator(mode="after")
    def _paperwork(self) -> Self:
        if not self.receipt_number and not self.no_receipt_reason:
            raise ValueError("give receipt_number, or no_receipt_reason when there is no receipt")
        return self

    def command(self) -> commands.RequestReturn:
        request = ReturnRequest(
            kind=self.kind, tender=self.tender, amount_minor=self.amount.minor_units,
            product_category=self.product_category, purchased_on=self.purchased_on,
            receipt_number=self.receipt_number, no_receipt_reason=self.no_receipt_reason,
        )
        return commands.RequestReturn(
            store_id=self.store_id, request=request, currency=self.amount.currency, complaint_id=self.complaint_id,
            customer=self.customer and self.customer.command(), exception_reason=self.exception_reason,
        )


class ExceptionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'reason': 'Loyal customer; the box was unopened.'}]})

    reason: Text


class DeclineIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'reason': 'The coat has been worn; offered a repair instead.', 'category': 'item_condition'}]})

    reason: Text = Field(description="Why, in the store manager's words; kept in the complaints service only.")
    category: DeclineReason = Field(DeclineReason.other, description="Why, as the category published and counted.")

    def command(self) -> commands.DeclineReturn:
        return commands.DeclineReturn(**_fields(self))


class ReturnPolicyIO(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'return_window_days': 30, 'receipt_required': True, 'receipt_exempt_below_minor': 2000, 'approval_amount_minor': 20000, 'non_returnable_categories': ['gift-cards', 'perishables'], 'allowed_tenders': ['cash', 'credit', 'debit', 'gift_card'], 'currency': 'EUR'}]})

    return_window_days: int = Field(ge=0, le=3650)
    receipt_required: bool
    receipt_exempt_below_minor: int = Field(
        0, ge=0, le=LARGEST_RECEIPT_EXEMPTION_MINOR,
        description="A return of less needs no receipt even where one is required, in minor units; 0: every return needs one.",
    )
    approval_amount_minor: int = Field(ge=0, le=LARGEST_AMOUNT_MINOR)
    non_returnable_categories: list[ProductCategory] = Field(default_factory=list, max_length=200)
    allowed_tenders: list[Tender] = Field(min_length=1)
    currency: Currency = "EUR"

    def policy(self) -> ReturnPolicy:
        return ReturnPolicy(**{
            **_fields(self), "non_returnable_categories": frozenset(self.non_returnable_categories),
            "allowed_tenders": frozenset(self.allowed_tenders),
        })

    @classmethod
    def of(cls, policy: ReturnPolicy) -> Self:
        return cls(
            return_window_days=policy.return_window_days, receipt_required=policy.receipt_required,
            receipt_exempt_below_minor=policy.receipt_exempt_below_minor, approval_amount_minor=policy.approval_amount_minor,
            non_returnable_categories=sorted(policy.non_returnable_categories),
            allowed_tenders=sorted(policy.allowed_tenders), currency=policy.currency,
        )


class RegionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'name': 'Uusimaa'}]})

    name: Annotated[str, Field(min_length=1, max_length=200)]


class StoreIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'region_id': 'uusimaa', 'name': 'Kamppi', 'timezone': 'Europe/Helsinki'}]})

    region_id: RegionId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    timezone: TimeZone = Field(
        "Europe/Helsinki", description="IANA time zone; a store's dates (such as the return window) are local."
    )


class ErasureIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'email': 'aino@example.com'}]})

    email: EmailStr | None = None
    phone: Phone | None = None
    customer_ref: CustomerRef | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if not (self.email or self.phone or self.customer_ref):
            raise ValueError("give the customer's email, phone or customer_ref")
        return self

    def command(self) -> commands.EraseCustomer:
        return commands.EraseCustomer(**_fields(self))


_CURSOR = TypeAdapter(tuple[Instant, UUID])


def page_cursor(created_at: datetime, row_id: UUID) -> str:
    """The `next_cursor` of a page listed newest first (complaints, returns): its last row's (created_at, id)."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def after_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The (created_at, id) of the row a `next_cursor` points after; anything else is a 422."""
    try:
        created_at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return _CURSOR.validate_python((created_at, row_id))
    except ValueError:  # binascii, Unicode and pydantic's errors are ValueErrors too
        raise InvalidField("cursor", "not a cursor from a previous page", "query") from None


class Problem(BaseModel):
    detail: str = Field(description="What is wrong, in words a person can act on.")


class TransitionProblem(Problem):
    current_status: Status


ERRORS: dict[int | str, dict] = {
    401: {"model": Problem, "description": "No valid bearer token"},
    403: {"model": Problem, "description": "The role or the region/store scope does not allow it"},
    404: {"model": Problem, "description": "No such resource"},
    413: {"model": Problem, "description": "The request body is too large"},
}


def _fields(body: BaseModel) -> dict[str, object]:
    """A body's own fields as they are (nested bodies not turned into dicts)."""
    return {name: getattr(body, name) for name in type(body).model_fields}
