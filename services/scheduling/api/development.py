"""Routes of coaching and development."""

from fastapi import APIRouter

from services.scheduling.api import schemas

router = APIRouter(prefix="/v1", tags=["coaching and development"], responses=schemas.ERRORS)
