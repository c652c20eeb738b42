"""Reply templates as the library returns them."""

from __future__ import annotations

from pydantic import BaseModel


class TemplateOut(BaseModel):
    id: str
    stage: str
    channels: list[str]
    categories: list[str]
    title: str
    text: str
    version: int
    updated_by: str | None
    updated_at: str
