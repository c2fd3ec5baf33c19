"""Events built from the contracts' own examples, so a test names only what it changes."""

from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import uuid4

from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import Envelope, Event, wrap

E = TypeVar("E", bound=Event)


def example(event_class: type[E], **changes: Any) -> E:
    """The contract's own example event, with `changes`."""
    return event_class.model_validate({**event_class.model_config["json_schema_extra"]["examples"][0], **changes})


def filed(store_id: str = "hel-kamppi") -> Envelope:
    """A new complaint filed at the store, in its envelope, as the complaints service publishes it."""
    event = example(ComplaintFiled, store_id=store_id, complaint_id=uuid4())
    return wrap(event, source="/tests", time=datetime.now(UTC), subject=str(event.complaint_id))
