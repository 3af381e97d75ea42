"""At the door, before any route: security headers on every answer, and text that no person
types refused with a clear 422.

A NUL or another control character, or a lone UTF-16 surrogate ("\\ud800"), cannot be stored or
logged safely (PostgreSQL refuses NUL; encoding a lone surrogate fails), and would otherwise
surface as a 500 whose log could carry the request. The check reads JSON bodies and the query
string; nothing it refuses is repeated back or logged.
"""

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# C0 controls but tab, line feed and carriage return; DEL; C1 controls; lone surrogates.
_UNTYPABLE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
REFUSED: Final = (
    "The message holds characters that cannot be read (control characters). Please type it "
    "again. If someone is in danger now, call 999."
)


def has_untypable(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_UNTYPABLE.search(value))
    if isinstance(value, dict):
        return any(has_untypable(k) or has_untypable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_untypable(v) for v in value)
    return False


class RefuseUntypableText:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if has_untypable([v for pair in parse_qsl(query) for v in pair]):
            await _refuse(send)
            return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            parsed = json.loads(body) if body else None
            bad = has_untypable(parsed) or has_untypable(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            bad = False  # not JSON: the route's own validation answers with its 422
        if bad:
            await _refuse(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send) -> None:
    payload = json.dumps({"detail": REFUSED}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# No inline script or style anywhere: the pages load theirs from /static (DESIGN.md: nothing is
# fetched from elsewhere).
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
HEADERS: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # No other site's window or page may hold on to ours or embed what we serve.
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
HSTS: Final = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def served_over_https(scope: Scope) -> bool:
    """HTTPS here, or at the proxy in front (which says so in X-Forwarded-Proto)."""
    forwarded = dict(scope.get("headers") or []).get(b"x-forwarded-proto", b"")
    return scope.get("scheme") == "https" or forwarded.split(b",")[0].strip() == b"https"


class SecurityHeaders:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [*HEADERS, *([HSTS] if served_over_https(scope) else [])]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in extra if h[0] not in names),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
