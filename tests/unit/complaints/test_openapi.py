"""The complaints API documents itself: every request body has a valid example, every route its errors."""

import pytest

from services.complaints.api import schemas
from services.complaints.api.app import build_app
from services.complaints.settings import ComplaintsSettings
from services.shared.settings import PlatformSettings

SPEC = build_app(ComplaintsSettings(database_url="sqlite:///:memory:"), PlatformSettings()).openapi()
REQUEST_MODELS = [
    schemas.NewComplaint, schemas.NoteIn, schemas.AssignIn, schemas.ResolveIn, schemas.ReopenIn, schemas.CsatIn,
    schemas.ReturnIn, schemas.ExceptionIn, schemas.ReturnPolicyIO, schemas.RegionIn, schemas.StoreIn, schemas.ErasureIn,
]


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda model: model.__name__)
def test_every_request_body_has_an_example_that_validates(model):
    examples = SPEC["components"]["schemas"][model.__name__]["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)


def test_every_v1_route_documents_its_errors():
    for path, operations in SPEC["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            codes = set(operation["responses"])
            expected = {"404", "409", "410"} if path.startswith("/v1/csat") else {"401", "403"}
            assert expected <= codes, f"{method.upper()} {path}: {sorted(codes)}"
