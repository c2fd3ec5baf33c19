"""Customers as the store knows them: no more than their pseudonymous reference, made on first
contact. The contact itself stays with the complaint it was given for."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain.customers import customer_ref
from services.complaints.service.commands import Contact
from services.complaints.service.context import Context
from services.complaints.store.models import Customer
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
