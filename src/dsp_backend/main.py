"""The register service application: the chat page, /chat, and the register API under /api/v1."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError

from dsp_backend.admin.routes import router as admin_router
from dsp_backend.audit.routes import router as audit_router
from dsp_backend.chat.routes import router as chat_router
from dsp_backend.config import get_settings
from dsp_backend.contacts.routes import router as contacts_router
from dsp_backend.database.core import get_engine
from dsp_backend.drafts.routes import router as drafts_router
from dsp_backend.eligibility.routes import router as eligibility_router
from dsp_backend.gaps.routes import router as gaps_router
from dsp_backend.guard import RefuseUntypableText, SecurityHeaders
from dsp_backend.meetings.routes import actions_router
from dsp_backend.meetings.routes import router as meetings_router
from dsp_backend.outbox.routes import router as outbox_router
from dsp_backend.personal_data.routes import router as personal_data_router
from dsp_backend.questionnaire.routes import router as questionnaire_router
from dsp_backend.rating.routes import router as rating_router
from dsp_backend.referrals.pages import router as confirmation_pages
from dsp_backend.referrals.routes import router as referral_router
from dsp_backend.register.routes import reports_router
from dsp_backend.register.routes import router as register_router
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.routes import router as variant_router

API_PREFIX = "/api/v1"
DATABASE_UNAVAILABLE = (
    "The register is not available just now. Please try again in a minute. If someone is in "
    "danger now, call 999."
)


def _database_answers() -> bool:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, InterfaceError):
        return False
    return True


async def _answers(client: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await client.get(url, timeout=3)
    except httpx.HTTPError:
        return False
    return response.status_code < 500


class Problem(BaseModel):
    """A refusal: `detail` says what is wrong in plain English (a list, one per field, for 422),
    never repeating personal data."""

    detail: Any


# Declared on every API route, so clients (and schemathesis) know them: no token, wrong role,
# nothing with that id, a conflict, a refused body, the database away.
COMMON_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body cannot be read as JSON"},
    401: {"model": Problem, "description": "no token, or not a valid one"},
    403: {"model": Problem, "description": "the token's role may not do this"},
    404: {"model": Problem, "description": "nothing with that id"},
    409: {"model": Problem, "description": "conflicts with the register as it stands"},
    422: {"model": Problem, "description": "the request is refused: the detail says why"},
    503: {"model": Problem, "description": "the database is not answering: retry later"},
}


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=COMMON_ANSWERS)
    router.include_router(variant_router)
    router.include_router(contacts_router)
    router.include_router(audit_router)
    router.include_router(eligibility_router)
    router.include_router(rating_router)
    router.include_router(questionnaire_router)
    router.include_router(referral_router)
    router.include_router(drafts_router)
    router.include_router(register_router)
    router.include_router(reports_router)
    router.include_router(meetings_router)
    router.include_router(actions_router)
    router.include_router(outbox_router)
    router.include_router(gaps_router)
    router.include_router(personal_data_router)
    return router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    # A bad variant file stops the service at start, naming the file and field.
    variant_service.load(settings.variant)
    async with httpx.AsyncClient(timeout=settings.chat_timeout_seconds) as client:
        app.state.http = client
        yield


def create_app() -> FastAPI:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    docs = get_settings().api_docs
    app = FastAPI(
        title="DSP register service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the service answers. Readiness is /health/ready."""
        return {"status": "ok", "variant": get_settings().variant}

    @app.get("/health/ready", tags=["health"], responses={503: {"description": "not ready"}})
    async def ready() -> JSONResponse:
        """Readiness: the database, every Rasa replica and the action server answer."""
        settings = get_settings()
        checks = {"database": _database_answers()}
        client: httpx.AsyncClient = app.state.http
        for index, url in enumerate(settings.rasa_urls):
            checks[f"rasa_{index}" if len(settings.rasa_urls) > 1 else "rasa"] = await _answers(
                client, f"{url}/"
            )
        checks["action_server"] = await _answers(client, f"{settings.actions_url}/health")
        fine = all(checks.values())
        return JSONResponse(
            {"status": "ready" if fine else "not ready", "checks": checks},
            status_code=200 if fine else 503,
            headers={} if fine else {"Retry-After": "10"},
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(_request: Request, error: Exception) -> JSONResponse:
        # The error's class only: its message can carry the statement.
        logging.getLogger(__name__).error("database unavailable: %s", type(error).__name__)
        return JSONResponse(
            {"detail": DATABASE_UNAVAILABLE}, status_code=503, headers={"Retry-After": "30"}
        )

    app.add_middleware(RefuseUntypableText)
    # Added last, so outermost: every answer has the headers, refusals at the door included.
    app.add_middleware(SecurityHeaders)
    app.mount(
        "/static",
        StaticFiles(directory=str(resources.files("dsp_backend.chat").joinpath("static"))),
        name="static",
    )
    app.mount(
        "/admin/static",
        StaticFiles(directory=str(resources.files("dsp_backend.admin").joinpath("static"))),
        name="admin_static",
    )
    app.include_router(chat_router)
    app.include_router(admin_router)
    app.include_router(confirmation_pages)
    app.include_router(api_router())
    return app
