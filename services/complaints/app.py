from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.complaints.settings import ComplaintsSettings
from services.shared.db import database_ready, make_engine
from services.shared.kafka import kafka_ready, make_producer, start_when_reachable
from services.shared.settings import PlatformSettings
from services.shared.web import create_app


def build_app(settings: ComplaintsSettings, platform: PlatformSettings) -> FastAPI:
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.producer = make_producer(platform, client_id="complaints")  # needs the running loop
        async with start_when_reachable(app.state.producer):
            yield
        await engine.dispose()

    app = create_app(
        service="complaints",
        platform=platform,
        checks={"database": lambda: database_ready(engine), "kafka": lambda: kafka_ready(app.state.producer)},
        lifespan=lifespan,
        version="0.1.0",
    )
    return app
