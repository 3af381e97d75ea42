"""The one HTTP client for the register service. Settings are read per call, never at import."""

import os
import time
from typing import Any

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


async def _request(
    method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
) -> Any:
    try:
        async with httpx.AsyncClient(base_url=_base_url(), timeout=TIMEOUT) as client:
            response = await client.request(method, path, json=json, headers=_headers(headers))
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


async def check_eligibility(answers: dict[str, Any]) -> dict[str, Any]:
    """The service's eligibility answer for these answers (EligibilityAnswers), rule by rule."""
    return await _request("POST", "/api/v1/eligibility", json=answers)


async def suggest_rating(question: dict[str, Any]) -> dict[str, Any]:
    """A suggested rating (RatingQuestion -> RatingSuggestion); someone else decides."""
    return await _request("POST", "/api/v1/rating/suggest", json=question)


async def check_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """Checks answers as a form collects them, exactly as a referral's are checked (AnswersCheck
    -> AnswersChecked): for each one given {ok, value, message}, with age_years, age_group,
    person_may_consent and register. Personal data go in the body, never the URL."""
    return await _request("POST", "/api/v1/referrals/answers/check", json=answers)


async def submit_referral(referral: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    """Stores a referral (ReferralCreate) and returns its dsp_id. The same key and body sent again
    returns the first answer, so a retry never adds the person twice."""
    return await _request(
        "POST", "/api/v1/referrals", json=referral, headers={"Idempotency-Key": idempotency_key}
    )


# ---- the guided referral's drafts (helper F) -------------------------------------------------------
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
