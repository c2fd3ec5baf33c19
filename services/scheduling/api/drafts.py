"""Routes of drafted schedules."""

from fastapi import APIRouter

from services.scheduling.api import schemas

router = APIRouter(prefix="/v1", tags=["drafted schedules"], responses=schemas.ERRORS)
