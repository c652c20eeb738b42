"""Short-lived tickets that open the agent console's event streams.

A browser's EventSource cannot send the API key as a header, and the key must not travel in a
URL (access logs, history). The console trades its key for a ticket: who, which role and until
when, signed with an HMAC under a key derived from the gateway's secret, so it needs no storage
and any gateway replica can check it. A ticket only opens streams, and only for its first
`ttl_s` seconds; the key behind it must still be valid when a stream opens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from assist_api.auth.keys import Principal, Role

QUERY = "ticket"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"agent-console-stream", hashlib.sha256).digest()


def _sign(secret: str, payload: str) -> str:
    digest = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: str, principal: Principal, ttl_s: float, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ttl_s)
    payload = f"{expires}:{principal.role.value}:{principal.name}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_sign(secret, payload)}"


def verify(secret: str, ticket: str | None, now: float | None = None) -> Principal | None:
    """The principal a genuine, unexpired ticket names; None for anything else."""
    if not ticket or ticket.count(".") != 1:
        return None
    encoded, signature = ticket.split(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        expires, role, name = payload.split(":", 2)
        expires_at, role = int(expires), Role(role)
    except ValueError:  # bad base64, UTF-8, shape, number or role
        return None
    if not hmac.compare_digest(_sign(secret, payload), signature):
        return None
    if expires_at < (time.time() if now is None else now):
        return None
    return Principal(name, role)
