"""Placeholder; replaced by the search pages."""
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

router = APIRouter()


def mount_static(app: FastAPI) -> None:
    return None


def error_page(request: Request, status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)
