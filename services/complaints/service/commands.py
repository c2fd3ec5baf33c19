"""What the API asks of the service layer, without HTTP: one value per command or query. The
routes translate request bodies into these; validation of shapes stays with the request bodies."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.complaints.domain.lifecycle import Status
from services.complaints.domain.returns import ReturnRequest, ReturnStatus
from services.shared.events.complaints import Category, Channel, Mood, Outcome, ResolutionSteps, Severity, Technique
from services.shared.events.returns import DeclineReason
from services.shared.events.fields import Money, Tier


@dataclass(frozen=True)
class Contact:
    """How to reach a customer: an email or a phone, or both."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class FileComplaint:
    store_id: str
    customer: Contact
    channel: Channel
    category: Category
    severity: Severity
    mood: Mood
    description: str
    receipt_ref: str | None = None
    product_category: str | None = None
    amount: Money | None = None
    staff_involved: str | None = None


@dataclass(frozen=True)
class Assign:
    assignee: str
    assignee_role: Tier


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class Resolve:
    technique: Technique
    outcome: Outcome
    summary: str
    steps: ResolutionSteps | None = None


@dataclass(frozen=True)
class Reopen:
    reason: str | None = None


@dataclass(frozen=True)
class ComplaintFilters:
    store_id: str | None = None
    region_id: str | None = None
    status: Status | None = None
    category: Category | None = None
    severity: Severity | None = None
    mood: Mood | None = None
    assignee: str | None = None
    tier: Tier | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class RequestReturn:
    """What the return policy judges (`request`), and what it does not."""

    store_id: str
    request: ReturnRequest
    currency: str
    complaint_id: UUID | None = None
    customer: Contact | None = None
    exception_reason: str | None = None


@dataclass(frozen=True)
class DeclineReturn:
    """The store manager's reason, in their words (kept here) and as a category (published)."""

    reason: str
    category: DeclineReason = DeclineReason.other


@dataclass(frozen=True)
class ReturnFilters:
    store_id: str | None = None
    region_id: str | None = None
    status: ReturnStatus | None = None


@dataclass(frozen=True)
class AnswerSurvey:
    score: int
    comment: str | None = None


@dataclass(frozen=True)
class EraseCustomer:
    """Names the customer by contact data, or by the reference other services know them by."""

    email: str | None = None
    phone: str | None = None
    customer_ref: str | None = None


@dataclass(frozen=True)
class ContactReadFilters:
    complaint_id: UUID | None = None
    staff_id: str | None = None
    customer_ref: str | None = None
    since: datetime | None = None
    until: datetime | None = None
