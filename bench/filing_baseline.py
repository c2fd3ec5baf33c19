"""B1's baseline, served like the complaints API (python -m bench.filing_baseline, uvicorn): a bare
FastAPI endpoint that validates the same body with the same pydantic model and inserts one row in one
transaction through the same SQLAlchemy async engine (services.shared.db) and driver. No auth, no
idempotency, no outbox: the durable work of a filing and nothing around it.

    BENCH_DATABASE_URL=postgresql://… BENCH_PORT=8101 .venv/bin/python -m bench.filing_baseline
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Column, DateTime, MetaData, String, Table, Uuid, func, insert
from sqlalchemy.dialects.postgresql import JSONB

from services.complaints.api.schemas import NewComplaint
from services.shared.db import make_engine

metadata = MetaData()
filed = Table(
    "filed", metadata,
    Column("id", Uuid, primary_key=True),
    Column("store_id", String(63), nullable=False),
    Column("body", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def build_app(database_url: str) -> FastAPI:
    engine = make_engine(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/complaints", status_code=201)
    async def file_complaint(body: NewComplaint) -> dict[str, str]:
        complaint_id = uuid.uuid4()
        async with engine.begin() as connection:
            await connection.execute(
                insert(filed).values(id=complaint_id, store_id=body.store_id, body=body.model_dump(mode="json"))
            )
        return {"id": str(complaint_id)}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


if __name__ == "__main__":
    uvicorn.run(build_app(os.environ["BENCH_DATABASE_URL"]), host="127.0.0.1", port=int(os.environ["BENCH_PORT"]),
                log_config=None, access_log=False)
