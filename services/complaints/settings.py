from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ComplaintsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLAINTS_", extra="ignore")

    database_url: str = Field(
        "sqlite:///.data/complaints.db",
        description="SQLAlchemy URL of the complaints store: a SQLite file by default, postgresql://… for real.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(8001, description="Port the HTTP API listens on.")
