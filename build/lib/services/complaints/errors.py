"""The complaints service's business errors; each maps to one HTTP status (see api/app.py)."""


class ComplaintsError(Exception):
    status_code = 400


class NotFound(ComplaintsError):
    status_code = 404


class Conflict(ComplaintsError):
    status_code = 409


class Gone(ComplaintsError):
    status_code = 410


class InvalidField(ComplaintsError):
    """A well-formed request naming something that does not fit, such as an unknown store."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
