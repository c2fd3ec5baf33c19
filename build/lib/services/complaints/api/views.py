"""Turning stored rows into response bodies, with personal data only for the roles that need it."""

from services.complaints.api import schemas
from services.complaints.flows import Context
from services.complaints.store.models import Complaint, ReturnRequestRow


def complaint_out(complaint: Complaint, ctx: Context, *, with_notes: bool) -> schemas.ComplaintOut:
    personal = ctx.sees_contact_data
    customer = complaint.customer
    return schemas.ComplaintOut(
        id=complaint.id, store_id=complaint.store_id, region_id=complaint.region_id, status=complaint.status,
        channel=complaint.channel, category=complaint.category, severity=complaint.severity, mood=complaint.mood,
        description=complaint.description if personal else None,
        customer=schemas.CustomerOut(
            customer_ref=customer.customer_ref,
            **({"name": customer.name, "email": customer.email, "phone": customer.phone} if personal else {}),
        ),
        receipt_ref=complaint.receipt_ref, product_category=complaint.product_category,
        amount=schemas.Money(minor_units=complaint.amount_minor, currency=complaint.currency)
        if complaint.amount_minor is not None else None,
        staff_involved=complaint.staff_involved, filed_by=complaint.filed_by, assignee=complaint.assignee,
        assignee_role=complaint.assignee_role, resolution_technique=complaint.resolution_technique,
        resolution_outcome=complaint.resolution_outcome,
        resolution_summary=complaint.resolution_summary if personal else None,
        reopen_count=complaint.reopen_count, created_at=complaint.created_at, updated_at=complaint.updated_at,
        acknowledged_at=complaint.acknowledged_at, resolved_at=complaint.resolved_at, closed_at=complaint.closed_at,
        notes=[
            schemas.NoteOut(id=note.id, author=note.author, text=note.text if personal else None, created_at=note.created_at)
            for note in complaint.notes
        ]
        if with_notes else [],
    )


def return_out(request: ReturnRequestRow, details: dict[str, str] | None = None) -> schemas.ReturnOut:
    return schemas.ReturnOut(
        id=request.id, store_id=request.store_id, region_id=request.region_id, kind=request.kind,
        tender=request.tender, amount=schemas.Money(minor_units=request.amount_minor, currency=request.currency),
        product_category=request.product_category, purchased_on=request.purchased_on,
        receipt_number=request.receipt_number, no_receipt_reason=request.no_receipt_reason,
        complaint_id=request.complaint_id, status=request.status, broken_rules=request.broken_rules,
        rule_details=details or {}, approver=request.approver, requested_by=request.requested_by,
        created_at=request.created_at, decided_at=request.decided_at,
    )
