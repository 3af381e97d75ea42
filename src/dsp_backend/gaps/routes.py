from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.errors import PlainValidationRoute, refuse
from dsp_backend.gaps import service as gap_service
from dsp_backend.gaps.schemas import GapCreate, GapRead, GapThemes
from dsp_backend.register import deadlines
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/gaps", tags=["gaps in service"], route_class=PlainValidationRoute)

# The people who work the register log gaps and read them; commissioners see themes and counts.
Worker = Annotated[Actor, Depends(require_roles(Role.dsr_admin, Role.tco))]
Commissioner = Annotated[Actor, Depends(require_roles(Role.commissioner, Role.dsr_admin))]
DspIdQuery = Annotated[str | None, Query(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")]


def _entry(db_session: SessionDep, dsp_id: str | None) -> RegisterEntry | None:
    if dsp_id is None:
        return None
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No one on the register has this dsp_id.")
    return entry


@router.post("", response_model=GapRead, status_code=status.HTTP_201_CREATED)
def record_gap(
    gap: GapCreate, db_session: SessionDep, variant: VariantDep, actor: Worker
) -> GapRead:
    """001 section 15: a gap in service, against a person (by dsp_id) or on its own."""
    entry = _entry(db_session, gap.dsp_id)
    if entry is not None and entry.erased_at is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "This person's personal data have been erased."
        )
    try:
        row = gap_service.record(
            db_session=db_session,
            actor=actor,
            variant=variant,
            gap=gap,
            entry=entry,
            now=datetime.now(UTC),
        )
    except gap_service.UnknownTheme as unknown:
        refuse(422, [{"loc": ["body", "theme"], "msg": str(unknown), "type": "theme"}])
    db_session.commit()
    return gap_service.to_read(row, gap.dsp_id)


@router.get("", response_model=list[GapRead])
def list_gaps(
    db_session: SessionDep,
    actor: Worker,
    dsp_id: DspIdQuery = None,
    theme: Annotated[str | None, Query(max_length=48)] = None,
) -> list[GapRead]:
    """The gaps with what is missing, the impact and what was tried, newest first."""
    rows = gap_service.read_list(
        db_session=db_session, actor=actor, entry=_entry(db_session, dsp_id), theme=theme
    )
    db_session.commit()
    return rows


@router.get("/themes", response_model=GapThemes)
def gap_themes(
    db_session: SessionDep,
    variant: VariantDep,
    actor: Commissioner,
    months: Annotated[int, Query(ge=1, le=60)] = 12,
) -> GapThemes:
    """Themes and counts for the governance group and commissioners (001 section 15); counts
    under 5 are not shown."""
    since = deadlines.add_months(date.today(), -months)
    return gap_service.themes(db_session=db_session, variant=variant, since=since)
