"""POST /drafts gives a resume code; GET, PUT and DELETE /drafts take it in the Resume-Code
header. The code unlocks personal data, so it never goes in a URL, a query or a log."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, status

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.drafts import service as draft_service
from dsp_backend.drafts.models import ReferralDraft
from dsp_backend.drafts.schemas import (
    RESUME_CODE_HEADER,
    DraftBody,
    DraftCreated,
    DraftDeleted,
    DraftRead,
    DraftSaved,
)
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/drafts", tags=["drafts"])

ActionServer = Annotated[Actor, Depends(require_roles(Role.action_server))]
ResumeCode = Annotated[
    str,
    Header(
        alias=RESUME_CODE_HEADER,
        min_length=1,
        max_length=32,
        description="the resume code the referrer was given",
    ),
]
NOT_FOUND = (
    "No draft matches this resume code: it may be mistyped, or it has expired and been deleted."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _live_draft(db_session: SessionDep, code: str) -> ReferralDraft:
    draft = draft_service.get(db_session=db_session, code=code, now=_now())
    if draft is None:
        db_session.commit()  # an expired draft found on the way stays deleted
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return draft


@router.post("", response_model=DraftCreated, status_code=status.HTTP_201_CREATED)
def create_draft(
    body: DraftBody, db_session: SessionDep, variant: VariantDep, actor: ActionServer
) -> DraftCreated:
    """Keeps a paused referral for the variant's draft_retention_hours; returns its resume code."""
    draft, code = draft_service.create(
        db_session=db_session,
        data=body.data,
        retention_hours=variant.draft_retention_hours,
        now=_now(),
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="draft.create",
        entity_type="referral_draft",
        entity_id=str(draft.id),
        fields=body.data.keys(),
    )
    db_session.commit()
    return DraftCreated(resume_code=code, expires_at=draft_service.aware(draft.expires_at))


@router.get("", response_model=DraftRead)
def read_draft(db_session: SessionDep, actor: ActionServer, resume_code: ResumeCode) -> DraftRead:
    draft = _live_draft(db_session, resume_code)
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="draft.read",
        entity_type="referral_draft",
        entity_id=str(draft.id),
    )
    db_session.commit()
    return DraftRead(data=draft.data, expires_at=draft_service.aware(draft.expires_at))


@router.put("", response_model=DraftSaved)
def update_draft(
    body: DraftBody,
    db_session: SessionDep,
    variant: VariantDep,
    actor: ActionServer,
    resume_code: ResumeCode,
) -> DraftSaved:
    """Saves the answers again under the same code; the retention period starts again."""
    draft = _live_draft(db_session, resume_code)
    draft_service.update(
        db_session=db_session,
        draft=draft,
        data=body.data,
        retention_hours=variant.draft_retention_hours,
        now=_now(),
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="draft.update",
        entity_type="referral_draft",
        entity_id=str(draft.id),
        fields=body.data.keys(),
    )
    db_session.commit()
    return DraftSaved(expires_at=draft_service.aware(draft.expires_at))


@router.delete("", response_model=DraftDeleted)
def delete_draft(
    db_session: SessionDep, actor: ActionServer, resume_code: ResumeCode
) -> DraftDeleted:
    draft = _live_draft(db_session, resume_code)
    entity_id = str(draft.id)
    draft_service.remove(db_session=db_session, draft=draft)
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="draft.delete",
        entity_type="referral_draft",
        entity_id=entity_id,
    )
    db_session.commit()
    return DraftDeleted(deleted=True)
