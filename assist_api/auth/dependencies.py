"""FastAPI dependencies: who is calling, and may they."""

from __future__ import annotations

import hmac

from fastapi import Depends, Header, HTTPException, Query, Request, status

from assist_api.auth import stream_ticket
from assist_api.auth.keys import Principal, Role

# Which roles may call endpoints that require a given role.
GRANTS = {
    Role.agent: {Role.agent, Role.admin},
    Role.editor: {Role.editor, Role.admin},
    Role.supervisor: {Role.supervisor, Role.admin},
    Role.admin: {Role.admin},
}


def _bearer(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def require(role: Role):
    return require_any(role)


def require_any(*roles: Role):
    """Callers holding any role that one of `roles` grants (admin holds them all)."""
    allowed = set().union(*(GRANTS[r] for r in roles))
    needed = " or ".join(r.value for r in roles)

    def dependency(
        request: Request,
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> Principal:
        key = _bearer(authorization, x_api_key)
        if not key:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "credentials required",
                                headers={"WWW-Authenticate": "Bearer"})
        principal = request.app.state.keys.verify(key)
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked credentials",
                                headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {needed} role")
        return principal

    return Depends(dependency)


def require_stream(role: Role):
    """Like `require`, for event streams: the API key in a header (API clients) or a stream
    ticket in the `ticket` query parameter (a browser's EventSource, which cannot set headers)."""
    allowed = GRANTS[role]
    by_key = require(role).dependency

    def dependency(
        request: Request,
        ticket: str | None = Query(default=None, max_length=400,
                                   description="A stream ticket (POST /api/stream-tickets) instead of the key."),
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> Principal:
        if not ticket:
            return by_key(request, authorization, x_api_key)
        principal = stream_ticket.verify(request.app.state.service_token, ticket)
        if principal is None or not request.app.state.keys.is_active(principal.name, principal.role):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired stream ticket")
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role")
        return principal

    return Depends(dependency)


def require_service(request: Request, x_service_token: str | None = Header(default=None)) -> None:
    """The action server's shared secret for the internal API."""
    expected = request.app.state.service_token
    if not x_service_token or not hmac.compare_digest(x_service_token, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "service token required")
