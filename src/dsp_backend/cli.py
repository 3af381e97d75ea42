"""The dsp-backend command line: migrate, create-database, serve, token create, drafts purge, housekeeping,
outbox send and status, meetings notify."""

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Role
from dsp_backend.chat import retention
from dsp_backend.config import Settings, get_settings
from dsp_backend.database import migrate as migrations
from dsp_backend.database.core import get_sessionmaker, make_engine
from dsp_backend.drafts import service as draft_service
from dsp_backend.meetings import notifications
from dsp_backend.outbox import service as outbox
from dsp_backend.personal_data import service as personal_data_service
from dsp_backend.referrals import confirmation
from dsp_backend.register import housekeeping as register_housekeeping
from dsp_backend.variants import service as variant_service


def _migrate(_args: argparse.Namespace) -> int:
    migrations.upgrade(get_settings().database_url)
    return 0


def _create_database(args: argparse.Namespace) -> int:
    if not args.url.startswith("postgresql"):
        print("nothing to create: migrate makes a SQLite file")
    elif migrations.create_database(args.url):
        print("database created")
    else:
        print("database already there")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if not args.no_migrate:
        migrations.upgrade(get_settings().database_url)
    uvicorn.run(
        "dsp_backend.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        # Several processes on PostgreSQL; each keeps its own chat rate limits.
        workers=args.workers,
        # Access logs show paths and status only; paths never carry personal data.
        access_log=True,
    )
    return 0


def _token_create(args: argparse.Namespace) -> int:
    if args.replace and not args.label:
        raise ValueError("--replace needs --label: it revokes earlier tokens with that label")
    with get_sessionmaker()() as db_session:
        if args.replace:
            auth_service.revoke_labelled(db_session=db_session, label=args.label)
        _row, token = auth_service.create(
            db_session=db_session, role=Role(args.role), label=args.label
        )
        db_session.commit()
    print(token)
    return 0


def _drafts_purge(_args: argparse.Namespace) -> int:
    with get_sessionmaker()() as db_session:
        deleted = draft_service.purge_expired(db_session=db_session, now=datetime.now(UTC))
        db_session.commit()
    print(f"deleted {deleted} expired referral draft(s)")
    return 0


def _outbox_send(_args: argparse.Namespace) -> int:
    with get_sessionmaker()() as db_session:
        sent, failed = outbox.send_due(
            db_session=db_session, settings=get_settings(), now=datetime.now(UTC)
        )
    print(f"outbox: sent {sent} email(s), {failed} to retry")
    return 0


def _outbox_status(_args: argparse.Namespace) -> int:
    """What waits and what keeps failing; exits 1 while a send is failing, for monitoring."""
    with get_sessionmaker()() as db_session:
        report = outbox.status(db_session=db_session)
    print(f"outbox: {report.sent} sent, {report.waiting} waiting, {report.failing} failing")
    for message in report.unsent:
        tried = f"{message.attempts} attempt(s), last error {message.last_error}, next at "
        print(
            f"  #{message.id} {message.kind} about {message.about or '-'}: "
            f"{tried if message.attempts else 'not tried yet, due at '}"
            f"{message.next_attempt_at:%Y-%m-%d %H:%M}"
        )
    return 1 if report.failing else 0


def _tell(db_session: Session, settings: Settings, now: datetime) -> str:
    """The TCOs told of red, referrers of removal, managers of overdue actions: queued in the
    caller's transaction, sent with the rest of the outbox."""
    queued, waiting = notifications.send_register_notifications(
        db_session=db_session, actor=notifications.HOUSEKEEPING, settings=settings, now=now
    )
    escalations = notifications.escalate_overdue(
        db_session=db_session,
        actor=notifications.HOUSEKEEPING,
        variant=variant_service.load(settings.variant),
        now=now,
    )
    return (
        f"{len(queued)} notification(s) queued, {len(waiting)} with no address; "
        f"{escalations.escalated} overdue action(s) escalated, {escalations.without_address} "
        "with no address"
    )


def _meetings_notify(_args: argparse.Namespace) -> int:
    settings, now = get_settings(), datetime.now(UTC)
    with get_sessionmaker()() as db_session:
        told = _tell(db_session, settings, now)
        db_session.commit()
        sent, failed = outbox.send_due(db_session=db_session, settings=settings, now=now)
    print(f"meetings: {told}; sent {sent} email(s), {failed} to retry")
    return 0


@dataclass(frozen=True)
class Housekept:
    drafts: int
    held: int
    applied: register_housekeeping.Applied
    told: str
    reminded: int
    reminder_emails: int
    erased: int

    def line(self) -> str:
        applied = self.applied
        return (
            f"deleted {self.drafts} expired draft(s), {self.held} unconfirmed referral(s); "
            f"removed {applied.step_downs_ended} at the end of their step-down, opened "
            f"{applied.transition_tasks} transition task(s), moved {applied.moved_to_adults} to "
            f"the adults' register; {self.told}; {self.reminder_emails} reminder email(s) "
            f"about {self.reminded} deadline(s); erased the personal data of {self.erased} "
            "after retention"
        )


def housekeep(*, db_session: Session, settings: Settings, now: datetime) -> Housekept:
    """Everything that falls due with time, in the caller's transaction: the deadline clock's
    steps (register.housekeeping), notifications and escalations, reminders, retention. Each
    step records what it did, so a second run changes nothing."""
    drafts = draft_service.purge_expired(db_session=db_session, now=now)
    held = confirmation.purge_expired(db_session=db_session, now=now)
    applied = register_housekeeping.apply_due(db_session=db_session, now=now)
    told = _tell(db_session, settings, now)
    reminded, emails = register_housekeeping.send_reminders(db_session=db_session, now=now)
    erased = personal_data_service.erase_due(
        db_session=db_session, actor=register_housekeeping.HOUSEKEEPING, now=now
    )
    return Housekept(
        drafts=drafts,
        held=held,
        applied=applied,
        told=told,
        reminded=reminded,
        reminder_emails=emails,
        erased=erased,
    )


def _housekeeping(_args: argparse.Namespace) -> int:
    """What falls due with time (see housekeep), then email still to send sent (or retried) and
    conversations gone quiet deleted from Rasa's tracker store."""
    settings, now = get_settings(), datetime.now(UTC)
    variant = variant_service.load(settings.variant)
    with get_sessionmaker()() as db_session:
        done = housekeep(db_session=db_session, settings=settings, now=now)
        db_session.commit()
        sent, failed = outbox.send_due(db_session=db_session, settings=settings, now=now)
    engine = make_engine(retention.tracker_url(settings))
    try:
        quiet = retention.purge_quiet(
            engine=engine, now=now, retention_hours=variant.draft_retention_hours
        )
    finally:
        engine.dispose()
    print(
        f"housekeeping: {done.line()}; deleted {quiet} quiet conversation(s); "
        f"sent {sent} email(s), {failed} to retry"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dsp-backend", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=_migrate)

    create_database = commands.add_parser(
        "create-database", help="create the PostgreSQL database of a URL if it is missing"
    )
    create_database.add_argument("--url", required=True, help="a postgresql+psycopg:// URL")
    create_database.set_defaults(run=_create_database)

    serve = commands.add_parser("serve", help="apply migrations and serve the register service")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    serve.add_argument("--no-migrate", action="store_true")
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="manage bearer tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it on stdout")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--label", default="", help="what the token is for (no personal data)")
    create.add_argument(
        "--replace", action="store_true", help="revoke earlier live tokens with the same label"
    )
    create.set_defaults(run=_token_create)

    drafts = commands.add_parser("drafts", help="paused referral drafts")
    draft_commands = drafts.add_subparsers(dest="drafts_command", required=True)
    purge = draft_commands.add_parser("purge", help="delete every expired referral draft")
    purge.set_defaults(run=_drafts_purge)

    mail = commands.add_parser("outbox", help="email waiting to be sent")
    mail_commands = mail.add_subparsers(dest="outbox_command", required=True)
    mail_commands.add_parser("send", help="send the email that is due").set_defaults(
        run=_outbox_send
    )
    mail_commands.add_parser(
        "status", help="counts of sent, waiting and failing email; exit 1 while one fails"
    ).set_defaults(run=_outbox_status)

    meetings = commands.add_parser("meetings", help="multi-agency meetings")
    meeting_commands = meetings.add_subparsers(dest="meetings_command", required=True)
    meeting_commands.add_parser(
        "notify",
        help="email the TCOs of red ratings, referrers of removals and managers of overdue "
        "actions; safe to run as often as you like",
    ).set_defaults(run=_meetings_notify)

    housekeeping = commands.add_parser(
        "housekeeping",
        help="apply what has fallen due: expired drafts, unconfirmed referrals and quiet "
        "conversations deleted; green step-downs ended; transition tasks and moves to the "
        "adults' register; notifications, escalations and reminders sent; personal data "
        "erased after retention; safe to run as often as you like",
    )
    housekeeping.set_defaults(run=_housekeeping)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except Exception as error:  # noqa: BLE001 - the command line answers in one clear line
        print(f"dsp-backend: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
