"""MAM invitations (001 s10 and s12): each professional gets the referral as a password-protected
PDF and, in a separate email, its password; the family gets an email of its own with the joining
details, the time of the pre-meeting and the roles (never the addresses) of who will come.

Subjects carry the dsp_id only, never a name, NHS number or date of birth (DESIGN.md).
"""

import io
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

import pikepdf
from fpdf import FPDF
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.database.core import as_utc
from dsp_backend.meetings import service as mam_service
from dsp_backend.meetings.models import Mam, MamInvitee
from dsp_backend.meetings.schemas import InvitationsResult
from dsp_backend.outbox import service as outbox
from dsp_backend.questionnaire import logic
from dsp_backend.questionnaire import service as questionnaire_service
from dsp_backend.questionnaire.schemas import Item
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.schemas import Variant

# The pathway's areas are in England: times are shown as people there read them.
LOCAL_TIME: Final = ZoneInfo("Europe/London")
# No look-alikes, as for dsp_ids: the password is typed from one email into a PDF reader.
_PASSWORD_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTWXYZabcdefghjkmnpqrstwxyz"
PASSWORD_LENGTH: Final = 16


def new_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def when(moment: datetime) -> str:
    """e.g. "Monday 14 December 2026 at 10:00"."""
    local = as_utc(moment).astimezone(LOCAL_TIME)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


# Letters with a stroke have no decomposition to a plain one.
_STROKED: Final = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"}
)


def _printable(text: str) -> str:
    """The PDF's built-in fonts carry Windows-1252; other letters lose their accents rather
    than the document failing (a name is still readable)."""

    def one(char: str) -> str:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char.translate(_STROKED))
            return plain.encode("cp1252", "ignore").decode("cp1252") or "?"
        return char

    return "".join(one(char) for char in text)


def _value(item_type: str, value: object, shown: str) -> str:
    """The whole answer: the professionals read the referral itself, not the chat's summary."""
    if item_type == "nhs_number":
        text = str(value)
        return f"{text[:3]} {text[3:6]} {text[6:]}"
    if item_type == "people" and isinstance(value, dict):
        return "\n".join(
            ", ".join(str(p.get(k)) for k in ("name", "role", "email", "phone") if p.get(k))
            for p in value.get("people", [])
        )
    if isinstance(value, str) and item_type not in ("date", "choice", "diagnosis", "area"):
        return value
    return shown


# The referral form's sections as the PDF heads them, in 001 section 11's order: who the person
# is first, then who refers, the situation, the rest of the form, consent and the MAM.
HEADINGS: Final = {
    "person": "The person",
    "referrer": "The referrer",
    "eligibility": "Eligibility",
    "situation": "Current situation and concerns",
    "full_form": "Care, history and risk",
    "good_referral": "About the person",
    "consent": "Consent",
    "mam": "The multi-agency meeting",
}


def _label(item: Item) -> str:
    """A yes or no reads against its question; other answers against their label, in the third
    person (the referrer's own labels say "your")."""
    label = item.text if item.type == "boolean" else item.label.removeprefix("your ")
    return label[:1].upper() + label[1:]


def referral_lines(
    answers: dict[str, object], source: str, variant: Variant, today: datetime
) -> list[tuple[str, str]]:
    """(label, answer) section by section, each section once (HEADINGS' order, then the
    questionnaire's), with a heading line ("", heading) at the start of each."""
    state = logic.state_of(
        answers, "self" if source == "self" else "professional", variant, today.date()
    )
    sections: dict[str, list[tuple[str, str]]] = {}
    for item in logic.questionnaire().items:
        value = answers.get(item.linkId)
        if value is None:
            continue
        shown = questionnaire_service.display(item, value, state)
        sections.setdefault(item.section, []).append(
            (_label(item), _value(item.type, value, shown))
        )
    order = list(HEADINGS)
    return [
        line
        for section, lines in sorted(
            sections.items(), key=lambda pair: order.index(pair[0]) if pair[0] in order else 99
        )
        for line in [("", HEADINGS.get(section, section.replace("_", " ").capitalize())), *lines]
    ]


def referral_pdf(*, entry: RegisterEntry, mam: Mam, lines: Iterable[tuple[str, str]]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(f"Referral {entry.dsp_id}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, "Dynamic Support Pathway: referral", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(
        0,
        6,
        f"Reference {entry.dsp_id}. Multi-agency meeting {mam.number}: "
        f"{when(mam.scheduled_at)}.\nConfidential: for the people invited to this meeting only. "
        "Do not forward it.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for label, text in lines:
        if not label:
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 8, _printable(text), new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _printable(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, _printable(text) or "-", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def encrypt(pdf: bytes, password: str) -> bytes:
    """AES-256 (PDF 2.0, revision 6): the password opens it; printing is allowed, changing not."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.save(
            out,
            encryption=pikepdf.Encryption(
                user=password,
                owner=secrets.token_urlsafe(24),
                R=6,
                allow=pikepdf.Permissions(modify_other=False, modify_assembly=False),
            ),
        )
    return out.getvalue()


def _professional_body(entry: RegisterEntry, mam: Mam, family_coming: bool) -> str:
    pre = (
        f"The chair meets the family {mam_service.PRE_MEETING.seconds // 60} minutes before, at "
        f"{when(as_utc(mam.scheduled_at) - mam_service.PRE_MEETING)}.\n\n"
        if family_coming
        else ""
    )
    return (
        f"You are invited to a multi-agency meeting (MAM) of the Dynamic Support Pathway for "
        f"{entry.dsp_id}.\n\n"
        f"When: {when(mam.scheduled_at)}\nJoin: {mam.joining_link}\n\n{pre}"
        "The referral is attached so that you know why the meeting is asked for and can prepare. "
        "It is password protected; the password comes in a separate email. Please keep it "
        "confidential and do not forward it.\n\n"
        "The person and their family see the roles of the people invited, never your email "
        "address."
    )


def _password_body(entry: RegisterEntry, mam: Mam, password: str) -> str:
    return (
        f"The password for the referral attached to the invitation to the multi-agency meeting "
        f"for {entry.dsp_id} on {when(mam.scheduled_at)} is:\n\n{password}\n\n"
        "It opens that document only. Do not forward this email."
    )


def _family_body(mam: Mam, roles: list[str]) -> str:
    """Easy read: short sentences, one idea each."""
    coming = "\n".join(f"- {role}" for role in roles) or "- the people who support you"
    return (
        "Hello.\n\n"
        "You are invited to a meeting.\n"
        "It is called a multi-agency meeting, or MAM.\n"
        "People who support you come together to help.\n\n"
        f"The meeting is on {when(mam.scheduled_at)}.\n\n"
        f"Please join {mam_service.PRE_MEETING.seconds // 60} minutes early, at "
        f"{when(as_utc(mam.scheduled_at) - mam_service.PRE_MEETING)}.\n"
        "Then we can talk with you first.\n"
        "We will explain what happens in the meeting.\n\n"
        f"To join, use this link:\n{mam.joining_link}\n\n"
        f"These people are invited:\n{coming}\n\n"
        "You can ask questions at the meeting.\n"
        "You can bring someone to support you."
    )


def _roles(invitees: Iterable[MamInvitee]) -> list[str]:
    return list(dict.fromkeys(i.role for i in invitees if not i.family))


def send(
    *,
    db_session: Session,
    actor: Actor,
    mam: Mam,
    variant: Variant,
    now: datetime,
) -> InvitationsResult:
    """Queues the invitations not yet sent for the MAM as it now stands: a fresh password for
    each round, each professional's password in an email of its own."""
    mam_service.ensure_open(mam)
    entry = mam_service.entry_of(db_session, mam)
    without_email = sum(1 for i in mam.invitees if i.invited_at is None and not i.email)
    # Claimed one by one, so two rounds at once (a double click) invite each person once.
    waiting = [
        i
        for i in mam.invitees
        if i.invited_at is None
        and i.email
        and mam_service.claim(
            db_session, MamInvitee, i.id, MamInvitee.invited_at.is_(None), invited_at=now
        )
    ]
    professionals = [i for i in waiting if not i.family]
    family_coming = any(i.family for i in mam.invitees)
    if professionals:
        personal = register_service.personal_of(db_session=db_session, entry=entry)
        if personal is None:
            raise mam_service.NotAllowed(
                "The referral is no longer held for this person, so it cannot be attached."
            )
        lines = referral_lines(
            personal.form.get("answers", {}), entry.referral_source, variant, now
        )
        password = new_password()
        document = outbox.Attachment(
            filename=f"referral-{entry.dsp_id}.pdf",
            content_type="application/pdf",
            content=encrypt(referral_pdf(entry=entry, mam=mam, lines=lines), password),
        )
        for invitee in professionals:
            assert invitee.email is not None
            outbox.enqueue(
                db_session=db_session,
                kind="mam_invitation",
                about=entry.dsp_id,
                to_address=invitee.email,
                subject=f"Multi-agency meeting for {entry.dsp_id}: {when(mam.scheduled_at)}",
                body=_professional_body(entry, mam, family_coming),
                attachments=[document],
                now=now,
            )
            outbox.enqueue(
                db_session=db_session,
                kind="mam_password",
                about=entry.dsp_id,
                to_address=invitee.email,
                subject=f"Password for the meeting papers for {entry.dsp_id}",
                body=_password_body(entry, mam, password),
                erase_once_sent=True,
                now=now,
            )
    for invitee in waiting:
        if invitee.family:
            assert invitee.email is not None
            outbox.enqueue(
                db_session=db_session,
                kind="mam_family_invitation",
                about=entry.dsp_id,
                to_address=invitee.email,
                subject=f"Your meeting, {entry.dsp_id}",
                body=_family_body(mam, _roles(mam.invitees)),
                now=now,
            )
        invitee.invited_at = now
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="mam.invitations",
        entity_type=mam_service.ENTITY,
        entity_id=entry.dsp_id,
        fields={"invitees"} if waiting else (),
    )
    return InvitationsResult(invited=len(waiting), without_email=without_email)
