"""Recording a MAM on the register pages: arrange it, then its notes from the first or subsequent
template (001 section 13), every section answered or marked not applicable, the existing action
plan's outcomes, new actions, and the next steps that move the register. The meetings service
checks and records all of it, as for the API."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from dsp_backend.admin.render import LOCAL, AdminRoute, page
from dsp_backend.admin.session import PageSession, Refused, read_form, require_page_roles
from dsp_backend.auth.schemas import Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import SessionDep
from dsp_backend.meetings import notifications
from dsp_backend.meetings import service as mam_service
from dsp_backend.meetings.models import Mam
from dsp_backend.meetings.schemas import (
    ActionChange,
    ActionCreate,
    ActionRead,
    Attendee,
    MamCreate,
    MamRead,
    NextSteps,
    NotesUpdate,
    SectionAnswer,
    TemplateSection,
)
from dsp_backend.outbox import service as outbox
from dsp_backend.register import lifecycle
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(route_class=AdminRoute)
# As the meetings API: the people who work the register.
Worker = Annotated[PageSession, Depends(require_page_roles(Role.dsr_admin, Role.tco))]

# Blank rows offered for attendees and for new actions; more are added by saving and coming back.
SPARE_ATTENDEES: Final = 3
NEW_ACTIONS: Final = 3
STATUSES: Final = ("open", "completed", "no_longer_needed")
DECISIONS: Final = ("follow_up", "stand_down", "escalate")
# Rows are read up to this many, whatever the page offered.
MAX_ROWS: Final = 60


def _entry(db_session: SessionDep, dsp_id: str) -> RegisterEntry:
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    if entry is None:
        raise Refused(404, "No one on the register has this dsp_id.")
    return entry


def _open_mam(db_session: SessionDep, entry: RegisterEntry) -> Mam | None:
    return next(
        (m for m in mam_service.of_entry(db_session=db_session, entry=entry) if not m.completed_at),
        None,
    )


def _when(day_text: str, time_text: str) -> datetime:
    """A date and a time typed on the page, as UK time; ValueError if either is not one."""
    local = datetime.combine(
        date.fromisoformat(day_text), time.fromisoformat(time_text), tzinfo=LOCAL
    )
    # In UTC: SQLite keeps a time's wall clock and drops its offset.
    return local.astimezone(UTC)


def _mam_url(entry: RegisterEntry) -> str:
    return f"/admin/people/{entry.dsp_id}/mam"


@router.get("/people/{dsp_id}/mam")
def mam_form(request: Request, dsp_id: str, db_session: SessionDep, session: Worker) -> Response:
    """The open MAM's notes form, or the form to arrange the next MAM when none is open."""
    entry = _entry(db_session, dsp_id)
    mam = _open_mam(db_session, entry)
    if mam is None:
        return _arrange_page(request, entry, {})
    read = mam_service.read(db_session=db_session, actor=session.actor, mam=mam, today=date.today())
    db_session.commit()
    return _notes_page(request, entry, read, _values_of(read))


def _arrange_page(
    request: Request,
    entry: RegisterEntry,
    values: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    return page(
        request,
        "mam_arrange.html",
        errors=errors,
        title=f"{entry.dsp_id}: arrange a MAM",
        entry=entry,
        values=values,
    )


@router.post("/people/{dsp_id}/mam/arrange")
async def arrange(
    request: Request, dsp_id: str, db_session: SessionDep, session: Worker
) -> Response:
    """Arranges the next MAM; the people the referral named are invited by default."""
    entry = _entry(db_session, dsp_id)
    values = await read_form(request, session)
    errors = []
    try:
        scheduled_at = _when(values.get("scheduled_date", ""), values.get("scheduled_time", ""))
    except ValueError:
        errors.append(("scheduled_date", "Enter the date and time of the MAM"))
    if not values.get("joining_link", "").startswith("https://"):
        errors.append(("joining_link", "Enter the joining link, starting https://"))
    if errors:
        return _arrange_page(request, entry, values, errors)
    try:
        request_body = MamCreate(
            dsp_id=entry.dsp_id, scheduled_at=scheduled_at, joining_link=values["joining_link"]
        )
        mam_service.create(
            db_session=db_session,
            actor=session.actor,
            entry=entry,
            request=request_body,
            now=_now(),
        )
    except ValidationError:
        return _arrange_page(
            request, entry, values, [("joining_link", "Enter a joining link with no spaces")]
        )
    except mam_service.NotAllowed as refused:
        db_session.rollback()
        return _arrange_page(request, entry, values, [("scheduled_date", str(refused))])
    db_session.commit()
    return RedirectResponse(f"{_mam_url(entry)}?done=arranged", status_code=303)


def _now() -> datetime:
    return datetime.now(UTC)


def _sections(read: MamRead) -> list[TemplateSection]:
    return mam_service.notes_template().for_kind(read.kind)


def _actions(read: MamRead) -> list[ActionRead]:
    """The actions whose outcome and status are recorded here: the plan the MAM opened with
    and those raised at it."""
    seen: dict[int, ActionRead] = {a.id: a for a in read.existing_action_plan}
    seen.update({a.id: a for a in read.action_plan})
    return list(seen.values())


def _values_of(read: MamRead) -> dict[str, str]:
    """The form's fields as the notes stand."""
    held = (read.held_at or read.scheduled_at).astimezone(LOCAL)
    values = {
        "held_date": held.date().isoformat() if read.held_at else "",
        "held_time": f"{held:%H:%M}" if read.held_at else "",
        "chair": read.chair,
        "note_taker": read.note_taker,
    }
    for index, attendee in enumerate(read.attendees):
        values[f"attendee_{index}_name"], values[f"attendee_{index}_role"] = (
            attendee.name,
            attendee.role,
        )
    for key, answer in read.sections.items():
        values[f"section_{key}"] = answer.text or ""
        values[f"section_{key}_answer"] = (
            "" if answer.answer is None else "yes" if answer.answer else "no"
        )
        values[f"section_{key}_na"] = "on" if answer.not_applicable else ""
    for action in _actions(read):
        values[f"action_{action.id}_outcome"] = action.outcome
        values[f"action_{action.id}_status"] = action.status
    return values


def _notes_page(
    request: Request,
    entry: RegisterEntry,
    read: MamRead,
    values: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    return page(
        request,
        "mam_notes.html",
        errors=errors,
        title=f"{entry.dsp_id}: MAM {read.number} notes",
        entry=entry,
        mam=read,
        sections=_sections(read),
        actions=_actions(read),
        attendee_rows=len(read.attendees) + SPARE_ATTENDEES,
        new_actions=NEW_ACTIONS,
        statuses=STATUSES,
        decisions=DECISIONS,
        values=values,
        done="The MAM was arranged." if request.query_params.get("done") == "arranged" else None,
    )


@dataclass
class NotesForm:
    """What the notes form asks the meetings service to do, or why it cannot."""

    notes: NotesUpdate | None = None
    changes: list[tuple[int, ActionChange]] = field(default_factory=list)
    new: list[ActionCreate] = field(default_factory=list)
    steps: NextSteps | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)

    def check(self, field_id: str, build: Any, *args: Any, **kwargs: Any) -> Any:
        """Builds a schema; its refusal goes on the field, in the schema's words."""
        try:
            return build(*args, **kwargs)
        except ValidationError as error:
            message = error.errors()[0]["msg"].removeprefix("Value error, ")
            self.errors.append((field_id, message))
        except ValueError:
            self.errors.append((field_id, "Enter a real date and time"))
        return None


def _header(form: NotesForm, values: dict[str, str]) -> dict[str, Any]:
    header: dict[str, Any] = {
        "chair": values.get("chair", ""),
        "note_taker": values.get("note_taker", ""),
    }
    if values.get("held_date") or values.get("held_time"):
        header["held_at"] = form.check(
            "held_date", _when, values.get("held_date", ""), values.get("held_time", "")
        )
    attendees = []
    for index in range(MAX_ROWS):
        name = values.get(f"attendee_{index}_name", "").strip()
        role = values.get(f"attendee_{index}_role", "").strip()
        if name and role:
            attendees.append(form.check(f"attendee_{index}_role", Attendee, name=name, role=role))
        elif name or role:
            missing = "role" if name else "name"
            form.errors.append(
                (f"attendee_{index}_{missing}", f"Give attendee {index + 1}'s {missing}")
            )
    header["attendees"] = attendees
    return header


def _sections_of(form: NotesForm, read: MamRead, values: dict[str, str]) -> dict[str, Any]:
    answers = {}
    for section in _sections(read):
        prefix = f"section_{section.key}"
        text = values.get(prefix, "").strip()
        yes_no = values.get(f"{prefix}_answer", "")
        not_applicable = values.get(f"{prefix}_na") == "on"
        if not_applicable and (text or yes_no):
            form.errors.append(
                (prefix, f"{section.title}: leave it empty, or untick not applicable")
            )
            continue
        answers[section.key] = form.check(
            prefix,
            SectionAnswer,
            text=text or None,
            answer={"yes": True, "no": False}.get(yes_no),
            not_applicable=not_applicable,
        )
    return answers


def _read_notes_form(read: MamRead, values: dict[str, str]) -> NotesForm:
    form = NotesForm()
    header = _header(form, values)
    sections = _sections_of(form, read, values)
    if not form.errors:
        form.notes = form.check("held_date", NotesUpdate, **header, sections=sections)
    for action in _actions(read):
        outcome = values.get(f"action_{action.id}_outcome", action.outcome)
        status = values.get(f"action_{action.id}_status", action.status)
        if (outcome, status) != (action.outcome, action.status):
            change = form.check(
                f"action_{action.id}_status", ActionChange, outcome=outcome, status=status
            )
            form.changes.append((action.id, change))
    for index in range(MAX_ROWS):
        row = {
            name: values.get(f"new_{index}_{name}", "").strip()
            for name in ("task", "responsible", "timeline", "manager_email")
        }
        if not any(row.values()):
            continue
        for name, message in (
            ("task", "Say what the action is"),
            ("responsible", "Say who is responsible"),
            ("timeline", "Enter the date it is due by"),
        ):
            if not row[name]:
                form.errors.append((f"new_{index}_{name}", message))
        if all(row[name] for name in ("task", "responsible", "timeline")):
            form.new.append(
                # What is left to refuse once the three are there: the manager's address.
                form.check(
                    f"new_{index}_manager_email",
                    ActionCreate,
                    task=row["task"],
                    responsible=row["responsible"],
                    timeline=row["timeline"],
                    manager_email=row["manager_email"] or None,
                )
            )
    decision = values.get("decision", "")
    if decision:
        reason = values.get("reason", "").strip()
        if not reason:
            form.errors.append(("reason", "Say why: it is recorded with the next steps"))
        next_mam_at = None
        if decision == "follow_up":
            next_mam_at = form.check(
                "next_mam_date",
                _when,
                values.get("next_mam_date", ""),
                values.get("next_mam_time", ""),
            )
        if reason and (next_mam_at or decision != "follow_up"):
            form.steps = form.check(
                "decision",
                NextSteps,
                decision=decision,
                next_mam_at=next_mam_at,
                stand_down_to=(values.get("stand_down_to") or None)
                if decision == "stand_down"
                else None,
                reason=reason,
            )
    return form


@router.post("/people/{dsp_id}/mam")
async def record_mam(
    request: Request,
    dsp_id: str,
    db_session: SessionDep,
    variant: VariantDep,
    background: BackgroundTasks,
    session: Worker,
) -> Response:
    """Saves the notes, the outcomes of the plan and the new actions, then the next steps if
    chosen: all of it, or (when the service refuses a part) none of it."""
    entry = _entry(db_session, dsp_id)
    mam = _open_mam(db_session, entry)
    if mam is None:
        raise Refused(404, "This person has no MAM open for notes: arrange one first.")
    values = await read_form(request, session)
    actor, now = session.actor, _now()
    read = mam_service.read(db_session=db_session, actor=actor, mam=mam, today=now.date())
    form = _read_notes_form(read, values)
    if form.errors or form.notes is None:
        db_session.rollback()
        return _notes_page(request, entry, read, values, form.errors)
    try:
        mam_service.record_notes(
            db_session=db_session, actor=actor, mam=mam, notes=form.notes, now=now
        )
        for action_id, change in form.changes:
            item = next(
                i
                for i in mam_service.actions(db_session=db_session, entry=entry)
                if i.id == action_id
            )
            mam_service.change_action(
                db_session=db_session, actor=actor, item=item, request=change, now=now
            )
        for action in form.new:
            mam_service.add_action(
                db_session=db_session, actor=actor, mam=mam, action=action, now=now
            )
        if form.steps is not None:
            mam_service.record_next_steps(
                db_session=db_session,
                actor=actor,
                mam=mam,
                steps=form.steps,
                variant=variant,
                now=now,
            )
            notifications.send_register_notifications(
                db_session=db_session, actor=actor, settings=get_settings(), now=now, entry=entry
            )
    except (mam_service.NotAllowed, lifecycle.TransitionRefused) as refused:
        db_session.rollback()
        return _notes_page(
            request,
            entry,
            read,
            values,
            [("decision" if form.steps else "held_date", str(refused))],
        )
    db_session.commit()
    if form.steps is not None:
        background.add_task(outbox.send_now)
    return RedirectResponse(f"/admin/people/{entry.dsp_id}?done=mam", status_code=303)
