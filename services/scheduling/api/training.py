"""Routes of training."""

from fastapi import APIRouter

from services.scheduling.api import schemas

router = APIRouter(prefix="/v1", tags=["training"], responses=schemas.ERRORS)
