"""The register as CSV: the identifiable export for the clinical folder (001 section 6) and the
cell rules every CSV the service writes follows."""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register.models import RegisterEntry
from dsp_backend.register.service import ENTITY, get_all


@dataclass(frozen=True)
class ExportColumn:
    name: str
    value: Callable[[RegisterEntry, ReferralPersonal | None], object]


def _personal(field: str) -> Callable[[RegisterEntry, ReferralPersonal | None], object]:
    return lambda _entry, personal: getattr(personal, field) if personal is not None else ""


def _entry(field: str) -> Callable[[RegisterEntry, ReferralPersonal | None], object]:
    return lambda entry, _personal: getattr(entry, field)


# 001 section 6: the register downloaded to a secure CSV file for the clinical folder.
EXPORT_COLUMNS: Final[tuple[ExportColumn, ...]] = (
    *(
        ExportColumn(name, _entry(name))
        for name in ("dsp_id", "register", "rag", "age_group", "referral_source", "created_at")
    ),
    ExportColumn("state", lambda entry, _p: entry.state),
    *(
        ExportColumn(name, _personal(name))
        for name in ("nhs_number", "given_name", "family_name", "date_of_birth", "postcode")
    ),
    *(
        ExportColumn(name, _entry(name))
        for name in (
            "consent_given_by",
            "consent_given_on",
            "consent_renewal_due_on",
            "step_down_ends_on",
            "first_mam_on",
            "removed_at",
            "removal_reason",
        )
    ),
)


def export_rows(
    *, db_session: Session, actor: Actor, include_removed: bool
) -> Iterable[list[object]]:
    """Rows of the clinical-folder export, identifiable: only dsr_admin may call it, audited."""
    entries = get_all(db_session=db_session, include_removed=include_removed)
    personal = {
        row.entry_id: row
        for row in db_session.scalars(
            select(ReferralPersonal).where(ReferralPersonal.entry_id.in_([e.id for e in entries]))
        )
    }
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.export",
        entity_type=ENTITY,
        fields=[column.name for column in EXPORT_COLUMNS],
    )
    return [
        [column.value(entry, personal.get(entry.id)) for column in EXPORT_COLUMNS]
        for entry in entries
    ]


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()
