"""422 answers that name the field and say what is wrong, and never repeat what was sent.

FastAPI's own 422 carries each rejected `input` back, which for a referral is personal data.
Routers that take personal data use PlainValidationRoute; their own refusals use `refuse()`.
"""

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, NoReturn

from fastapi import HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


def plain_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]


class PlainValidationRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def without_input(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return JSONResponse(
                    status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                    content={"detail": plain_errors(error.errors())},
                )

        return without_input


def refuse(status_code: int, problems: Iterable[dict[str, Any]] | str) -> NoReturn:
    detail = problems if isinstance(problems, str) else list(problems)
    raise HTTPException(status_code, detail)
