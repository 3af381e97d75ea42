"""Gaps in service (001 section 15): logged by the DSP admin lead or a TCO, against a person or
on their own, so that the governance group can find themes; commissioners see counts only."""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.gaps.models import GapInService
from dsp_backend.gaps.schemas import GapCreate, GapRead, GapThemes, ThemeCount
from dsp_backend.register import reports
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.schemas import Variant

ENTITY: Final = "gap_in_service"
TEXT_FIELDS: Final = ("what_is_missing", "impact", "what_was_tried")


class UnknownTheme(ValueError):
    """The theme is not one of the variant's; str(error) lists them."""


def record(
    *,
    db_session: Session,
    actor: Actor,
    variant: Variant,
    gap: GapCreate,
    entry: RegisterEntry | None,
    now: datetime,
) -> GapInService:
    if gap.theme not in variant.gap_themes:
        raise UnknownTheme(f"Choose one of these themes: {', '.join(variant.gap_themes)}.")
    row = GapInService(
        entry_id=entry.id if entry is not None else None,
        recorded_at=now,
        recorded_by=actor.ref,
        theme=gap.theme,
        age_group=entry.age_group if entry is not None else gap.age_group,
        what_is_missing=gap.what_is_missing,
        impact=gap.impact,
        what_was_tried=gap.what_was_tried,
    )
    db_session.add(row)
    db_session.flush()
    if entry is not None:
        register_service.note(
            db_session=db_session,
            actor=actor,
            entry=entry,
            kind="gap_in_service_recorded",
            on=now.date(),
            now=now,
            ref=f"gap:{row.id}",
        )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="gap.create",
        entity_type=ENTITY,
        entity_id=entry.dsp_id if entry is not None else f"gap:{row.id}",
        fields={"theme", "age_group", *TEXT_FIELDS},
    )
    return row


def of_entry(*, db_session: Session, entry: RegisterEntry) -> Sequence[GapInService]:
    return db_session.scalars(
        select(GapInService).where(GapInService.entry_id == entry.id).order_by(GapInService.id)
    ).all()


def to_read(row: GapInService, dsp_id: str | None) -> GapRead:
    return GapRead(
        id=row.id,
        dsp_id=dsp_id,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        theme=row.theme,
        age_group=row.age_group,
        what_is_missing=row.what_is_missing,
        impact=row.impact,
        what_was_tried=row.what_was_tried,
        erased=row.erased_at is not None,
    )


def read_list(
    *, db_session: Session, actor: Actor, entry: RegisterEntry | None, theme: str | None
) -> list[GapRead]:
    """The gaps with their free text, newest first, for the people who work the register."""
    query = select(GapInService, RegisterEntry.dsp_id).outerjoin(
        RegisterEntry, RegisterEntry.id == GapInService.entry_id
    )
    if entry is not None:
        query = query.where(GapInService.entry_id == entry.id)
    if theme is not None:
        query = query.where(GapInService.theme == theme)
    rows = db_session.execute(query.order_by(GapInService.id.desc())).all()
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="gap.list",
        entity_type=ENTITY,
        entity_id=entry.dsp_id if entry is not None else "",
        fields=TEXT_FIELDS,
    )
    return [to_read(row, dsp_id) for row, dsp_id in rows]


def themes(*, db_session: Session, variant: Variant, since: date) -> GapThemes:
    """Counts by theme and age group since a day, small counts suppressed (commissioners)."""
    rows = db_session.execute(
        select(GapInService.theme, GapInService.age_group).where(
            GapInService.recorded_at >= datetime.combine(since, datetime.min.time())
        )
    ).all()
    by_theme = Counter(theme for theme, _age in rows)
    by_age = Counter(age or "not_recorded" for _theme, age in rows)
    ordered = list(variant.gap_themes) + sorted(set(by_theme) - set(variant.gap_themes))
    return GapThemes(
        since=since,
        total=reports.suppressed(len(rows)),
        by_theme=[
            ThemeCount(theme=theme, gaps=reports.suppressed(by_theme[theme])) for theme in ordered
        ],
        by_age_group={age: reports.suppressed(count) for age, count in sorted(by_age.items())},
    )


def erase_for(*, db_session: Session, entry: RegisterEntry, now: datetime) -> int:
    """The free text of the person's gaps goes with their personal data; the theme and the
    count stay for the governance group (001 section 15)."""
    erased = 0
    for row in of_entry(db_session=db_session, entry=entry):
        if row.erased_at is None:
            row.what_is_missing = row.impact = row.what_was_tried = ""
            row.erased_at = now
            erased += 1
    return erased
