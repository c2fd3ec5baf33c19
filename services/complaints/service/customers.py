"""Customers as the store knows them: no more than their pseudonymous reference, made on first
contact. The contact itself stays with the complaint it was given for."""

import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain.customers import customer_ref
from services.complaints.service.commands import Contact
from services.complaints.service.context import Context
from services.complaints.store.models import Complaint, Customer
from services.shared.db import insert_statement


async def customer_for(session: AsyncSession, ctx: Context, contact: Contact) -> Customer:
    """Finds or creates the customer; one statement, so the same customer filing at two stores at
    once (two transactions that lock different stores) cannot create them twice. Changes nothing
    about a customer found: what one store was told is no business of another's."""
    ref = customer_ref(ctx.ref_key, contact.email, contact.phone)
    await session.execute(
        insert_statement(session, Customer).values(id=uuid.uuid4(), customer_ref=ref).on_conflict_do_nothing(
            index_elements=["customer_ref"]
        )
    )
    return (await session.execute(select(Customer).where(Customer.customer_ref == ref))).scalar_one()


async def customer_filing(
    session: AsyncSession, ctx: Context, contact: Contact, since: datetime
) -> tuple[uuid.UUID, str, int]:
    """The customer's id and reference, found or created as `customer_for` does, and how many
    complaints they filed since `since`. A customer this statement creates has filed none: one round
    trip, where finding them, then counting, takes two."""
    ref = customer_ref(ctx.ref_key, contact.email, contact.phone)
    create = _CREATE[session.bind.dialect.name]
    created = (await session.execute(create, {"id": uuid.uuid4(), "customer_ref": ref})).scalar_one_or_none()
    if created is not None:
        return created, ref, 0
    found, count = (await session.execute(_FIND_WITH_PRIOR, {"ref": ref, "since": since})).one()
    return found, ref, count


# Built once: building a statement per filing cost more CPU than running it.
_customers, _complaints = Customer.__table__, Complaint.__table__
_CREATE = {
    dialect: insert(_customers).on_conflict_do_nothing(index_elements=["customer_ref"]).returning(_customers.c.id)
    for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
_FIND_WITH_PRIOR = select(
    _customers.c.id,
    select(func.count()).select_from(_complaints).where(
        _complaints.c.customer_id == _customers.c.id, _complaints.c.created_at >= bindparam("since")
    ).scalar_subquery(),
).where(_customers.c.customer_ref == bindparam("ref"))
