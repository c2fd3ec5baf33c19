"""Tables of demand and drafts: the load each site's hours have carried, week by week, and which draft
shifts a draft run wrote (the ones the week's next run replaces)."""

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from services.scheduling.store.models import Base


class DemandCount(Base):
    """Complaints filed and returns requested at a site in one local hour of one local week (named by its
    Monday); weekday 0 is Monday."""

    __tablename__ = "demand_counts"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    weekday: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[int] = mapped_column(primary_key=True)
    events: Mapped[int]


class DraftedShift(Base):
    """A draft shift written by a draft run; a draft shift without one was made by hand."""

    __tablename__ = "drafted_shifts"

    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shifts.id"), primary_key=True)
