"""Business errors every service raises below its API. Each kind maps to one HTTP status, and one
handler (`services.shared.web`) turns them into responses, so no service builds an error body."""


class BusinessError(Exception):
    """A request the rules refuse; the message says why, in words the caller can show."""

    status_code = 400

    def body(self) -> dict[str, object]:
        return {"detail": str(self)}


class OutOfScope(BusinessError):
    """The caller's role or region/store scope does not reach what they asked for."""

    status_code = 403


class NotFound(BusinessError):
    status_code = 404


class Conflict(BusinessError):
    """The thing is not in a state that allows the request."""

    status_code = 409


class Gone(BusinessError):
    status_code = 410


class InvalidField(BusinessError):
    """A well-formed request naming something that does not fit, such as an unknown store; shaped
    like FastAPI's own validation errors, with the field's location (`body`, `query`, `path`)."""

    status_code = 422

    def __init__(self, field: str, message: str, location: str = "body") -> None:
        super().__init__(message)
        self.field, self.location = field, location

    def body(self) -> dict[str, object]:
        loc = [self.location, *self.field.split(".")]
        return {"detail": [{"loc": loc, "msg": str(self), "type": "value_error"}]}
