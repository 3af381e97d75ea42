"""Who is signed in to the register pages, and what their forms may send.

A person signs in with the same bearer token as the API (auth/service checks it). The session
cookie names the token by id, never its secret, and is signed with a key of its own (derived from
the service's key, so a conversation cookie can never pass for a session); it is HttpOnly,
SameSite=Strict, Secure over HTTPS, and expires after `DSP_ADMIN_SESSION_MINUTES` without a page.
Every form carries a per-session token (CSRF) in a hidden field. A client may instead send the
token as a bearer header, as to the API: no cookie goes with it, so no form token is needed.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from fastapi import Request, Response

from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.chat import service as signing
from dsp_backend.config import get_settings, secret_key
from dsp_backend.database.core import SessionDep
from dsp_backend.guard import has_untypable, served_over_https

COOKIE: Final = "dsp_admin_session"
CSRF_FIELD: Final = "csrf_token"
# A MAM's notes are the longest form: 20 sections of up to 20,000 characters each.
MAX_FORM_BYTES: Final = 512 * 1024
MAX_FORM_FIELDS: Final = 500


class Refused(Exception):
    """The page cannot be shown or the form not taken; the message says why, in plain English."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class PageSession:
    actor: Actor
    # None where the caller sent a bearer token rather than the session cookie.
    session_id: str | None

    @property
    def csrf(self) -> str | None:
        return None if self.session_id is None else _csrf(self.session_id)


def _key() -> bytes:
    return hmac.new(secret_key(get_settings()), b"dsp admin session", hashlib.sha256).digest()


def _csrf(session_id: str) -> str:
    return hmac.new(_key(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def _max_age() -> int:
    return get_settings().admin_session_minutes * 60


def _token_id(session_id: str) -> int | None:
    token_id, _, nonce = session_id.partition("_")
    return int(token_id) if token_id.isdigit() and nonce else None


def _from_cookie(request: Request, db_session: SessionDep) -> PageSession | None:
    session_id = signing.verified(request.cookies.get(COOKIE), _key(), time.time(), _max_age())
    token_id = _token_id(session_id) if session_id else None
    if session_id is None or token_id is None:
        return None
    actor = auth_service.actor_by_id(db_session=db_session, token_id=token_id)
    return PageSession(actor, session_id) if actor is not None else None


def _from_bearer(request: Request, db_session: SessionDep) -> PageSession | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    actor = auth_service.authenticate(db_session=db_session, token=token.strip())
    return PageSession(actor, None) if actor is not None else None


def require_page_roles(*roles: Role) -> Callable[[Request, SessionDep], PageSession]:
    """401 without a live session (or bearer token), 403 for a role the page is not for."""
    allowed = frozenset(roles)

    def dependency(request: Request, db_session: SessionDep) -> PageSession:
        session = _from_bearer(request, db_session) or _from_cookie(request, db_session)
        if session is None:
            raise Refused(401, "Sign in to see this page. Your session may have ended.")
        if session.actor.role not in allowed:
            raise Refused(403, "Your role cannot see this page.")
        # The route keeps the cookie alive with each page (render.AdminRoute).
        request.state.page_session = session
        return session

    # The route-walking tests read which roles a page admits from here, as for the API.
    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


def _set(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        signing.signed(session_id, _key(), time.time()),
        max_age=_max_age(),
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=served_over_https(request.scope),
    )


def sign_in(request: Request, response: Response, actor: Actor) -> None:
    """A new session for the token: a new id each time, so an old cookie never carries over."""
    _set(request, response, f"{actor.token_id}_{secrets.token_urlsafe(24)}")


def keep_alive(request: Request, response: Response, session: PageSession) -> None:
    """Signs the cookie again, so the session ends only after a spell without a page."""
    if session.session_id is not None:
        _set(request, response, session.session_id)


def sign_out(request: Request, response: Response) -> None:
    request.state.page_session = None  # nothing keeps it alive after this
    response.delete_cookie(
        COOKIE,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=served_over_https(request.scope),
    )


async def read_form(request: Request, session: PageSession | None) -> dict[str, str]:
    """A form's fields (application/x-www-form-urlencoded; the pages send nothing else). With a
    session cookie the form's token must be this session's, or nothing is done."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Refused(413, "The form is too long to be taken. Please shorten the longest answers.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as unreadable:
        raise Refused(400, "The form could not be read. Please try again.") from unreadable
    fields = {name: value.replace("\r\n", "\n") for name, value in pairs}
    if has_untypable(fields):
        # As at the door (guard.py): characters nobody types are refused, never stored or shown.
        raise Refused(422, "The form holds characters that cannot be read. Please type it again.")
    expected = session.csrf if session is not None else None
    sent = fields.pop(CSRF_FIELD, "")
    if expected is not None and not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Refused(
            403,
            "This form was not sent from this session's page, so nothing was changed. "
            "Go back, reload the page and try again.",
        )
    return fields
