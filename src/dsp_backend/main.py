"""The register service application: the chat page, /chat, and the register API under /api/v1."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI

from dsp_backend.audit.routes import router as audit_router
from dsp_backend.chat.routes import router as chat_router
from dsp_backend.config import get_settings
from dsp_backend.contacts.routes import router as contacts_router
from dsp_backend.drafts.routes import router as drafts_router
from dsp_backend.eligibility.routes import router as eligibility_router
from dsp_backend.guard import RefuseUntypableText
from dsp_backend.questionnaire.routes import router as questionnaire_router
from dsp_backend.rating.routes import router as rating_router
from dsp_backend.referrals.pages import router as confirmation_pages
from dsp_backend.referrals.routes import router as referral_router
from dsp_backend.register.routes import reports_router
from dsp_backend.register.routes import router as register_router
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.routes import router as variant_router

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
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
    app = FastAPI(title="DSP register service", version="0.1.0", lifespan=lifespan)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "variant": get_settings().variant}

    app.add_middleware(RefuseUntypableText)
    app.include_router(chat_router)
    app.include_router(confirmation_pages)
    app.include_router(api_router())
    return app
