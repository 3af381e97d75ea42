"""The one HTTP client for the register service. Settings are read per call, never at import."""

import asyncio
import os
import time
import weakref
from typing import Any, Literal, TypedDict

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class RegisterUnavailable(Exception):
    """The service could not be reached or failed; the conversation keeps its answers and says so."""


class RegisterRejected(Exception):
    """The service refused the request (4xx); `detail` is its plain-English reason."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(f"register service answered {status_code}")
        self.status_code = status_code
        self.detail = detail


def _base_url() -> str:
    return os.environ.get("DSP_SERVICE_URL", DEFAULT_URL).rstrip("/")


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    token = os.environ.get("DSP_SERVICE_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra or {})
    return headers


# One client per event loop, so its connections are kept open between turns (a new connection
# per call cost a TCP handshake on every turn).
_CLIENTS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = (
    weakref.WeakKeyDictionary()
)


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None or client.is_closed:
        client = _CLIENTS[loop] = httpx.AsyncClient(timeout=TIMEOUT)
    return client


async def _request(
    method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
) -> Any:
    try:
        response = await _client().request(
            method, f"{_base_url()}{path}", json=json, headers=_headers(headers)
        )
    except httpx.HTTPError as error:
        raise RegisterUnavailable(type(error).__name__) from error
    if response.status_code >= 500:
        raise RegisterUnavailable(f"status {response.status_code}")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text
        raise RegisterRejected(response.status_code, detail)
    return response.json()


async def get_variant() -> dict[str, Any]:
    """The local variant: area, who may refer, ratings, consent rules and contacts."""
    return await _request("GET", "/api/v1/variant")


async def lookup_contacts(place: str | None, audience: str = "family") -> dict[str, Any]:
    """The contacts for a place a person names: `status` found, ambiguous (with `choices`) or
    not_found. Every contact comes from the variant; the service never makes one up."""
    return await _request(
        "POST", "/api/v1/contacts/lookup", json={"place": place, "audience": audience}
    )


# ---- the referral questionnaire: the service leads, the assistant renders ----------------------------


class Option(TypedDict):
    code: str
    display: str
    say: str


class Question(TypedDict):
    linkId: str
    type: str
    text: str
    why: str
    options: list[Option]
    multiple: bool


class SummaryLine(TypedDict):
    linkId: str
    label: str
    value: str


class Next(TypedDict):
    """What comes next: a question, the summary, or why the referral stops."""

    status: Literal["question", "summary", "stopped"]
    question: Question | None
    summary: list[SummaryLine]
    stopped: str | None


class Interpreted(TypedDict):
    understood: bool
    answers: dict[str, Any]
    message: str | None
    options: list[Option]
    action: Literal["submit", "explain"] | None


class ReferralReceived(TypedDict):
    """The chat's referral is held until the referrer confirms it: it is only "received"."""

    status: Literal["received"]
    reference: str
    confirm_by: Literal["email", "coordinator"]
    next_steps: list[str]


async def next_question(answers: dict[str, Any], source: str) -> Next:
    """The next question for these answers, the summary, or why the referral cannot go on."""
    body = {"answers": answers, "referral_source": source}
    found: Next = await _request("POST", "/api/v1/questionnaire/next", json=body)
    return found


async def interpret(question: str, text: str, answers: dict[str, Any], source: str) -> Interpreted:
    """What `text` says as the answer to `question` ('$opening', '$summary' or a linkId): the
    answers as they then stand, or a clarification. Personal data travel in the body only."""
    body = {"question": question, "text": text, "answers": answers, "referral_source": source}
    found: Interpreted = await _request("POST", "/api/v1/questionnaire/interpret", json=body)
    return found


async def submit_referral(
    answers: dict[str, Any], source: str, idempotency_key: str
) -> ReferralReceived:
    """Sends a referral; the service checks it as the register would and holds it until the
    referrer confirms it from their email. The same key and body sent again returns the first
    answer, so a retry never holds it twice."""
    created: ReferralReceived = await _request(
        "POST",
        "/api/v1/referrals",
        json={"referral_source": source, "answers": answers},
        headers={"Idempotency-Key": idempotency_key},
    )
    return created


# ---- paused referrals -------------------------------------------------------------------------------
# A paused referral is kept by the service against a resume code. The code unlocks personal data, so
# it travels in the Resume-Code header, never in a URL.
RESUME_CODE_HEADER = "Resume-Code"
_VARIANT_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}
VARIANT_MAX_AGE_SECONDS = 300.0


async def get_variant_cached() -> dict[str, Any]:
    """The variant, fetched at most every few minutes: a form turn reads it several times, and a
    deployment serves one variant that changes only with a restart."""
    url = _base_url()
    cached = _VARIANT_CACHE.get(url)
    if cached is not None and time.monotonic() - cached[0] < VARIANT_MAX_AGE_SECONDS:
        return cached[1]
    variant = await get_variant()
    _VARIANT_CACHE[url] = (time.monotonic(), variant)
    return variant


async def create_draft(data: dict[str, Any]) -> dict[str, Any]:
    """Keeps a paused referral; returns {resume_code, expires_at}."""
    return await _request("POST", "/api/v1/drafts", json={"data": data})


async def read_draft(resume_code: str) -> dict[str, Any]:
    """The answers kept under a resume code: {data, expires_at}; RegisterRejected(404) if unknown
    or expired (an expired draft is deleted on the way)."""
    return await _request("GET", "/api/v1/drafts", headers={RESUME_CODE_HEADER: resume_code})


async def update_draft(resume_code: str, data: dict[str, Any]) -> dict[str, Any]:
    """Saves the answers again under the same code; returns {expires_at}."""
    return await _request(
        "PUT", "/api/v1/drafts", json={"data": data}, headers={RESUME_CODE_HEADER: resume_code}
    )


async def delete_draft(resume_code: str) -> None:
    """Forgets a draft: after the referral is sent, or when the referrer stops."""
    await _request("DELETE", "/api/v1/drafts", headers={RESUME_CODE_HEADER: resume_code})
