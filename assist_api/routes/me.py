"""Who the caller is: the consoles check a key at log-in with this."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel, Field

from assist_api.auth.dependencies import _bearer
from assist_api.deps import KeysDep

router = APIRouter(prefix="/api", tags=["auth"])


class Me(BaseModel):
    name: str = Field(examples=["agent-li"])
    role: str = Field(examples=["agent"])


@router.get("/me", response_model=Me)
def whoami(keys: KeysDep, authorization: Annotated[str | None, Header()] = None,
           x_api_key: Annotated[str | None, Header()] = None) -> Me:
    """The name and role of the API key presented (any role); 401 without a valid key."""
    key = _bearer(authorization, x_api_key)
    principal = keys.verify(key) if key else None
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or missing credentials",
                            headers={"WWW-Authenticate": "Bearer"})
    return Me(name=principal.name, role=principal.role.value)
