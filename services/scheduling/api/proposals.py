"""Routes of training proposals."""

from fastapi import APIRouter

from services.scheduling.api import schemas

router = APIRouter(prefix="/v1", tags=["training proposals"], responses=schemas.ERRORS)
