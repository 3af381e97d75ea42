"""Every register route depends on require_roles(...): 401 without a valid token, 403 for a wrong role."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep

_bearer = HTTPBearer(auto_error=False)


def require_roles(*roles: Role) -> Callable[..., Actor]:
    allowed = frozenset(roles)

    def dependency(
        db_session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "A bearer token is needed for this route.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        actor = auth_service.authenticate(db_session=db_session, token=credentials.credentials)
        if actor is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "This token is not valid.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if actor.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"The role '{actor.role.value}' may not use this route.",
            )
        return actor

    # Routes and the route-walking test read which roles a route admits from here.
    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency
