"""The one HTTP client for the register service. Settings are read per call, never at import."""

import os
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
