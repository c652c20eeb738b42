"""The reply-template library: stored in the database, seeded from data/templates.yaml."""

from __future__ import annotations

import builtins
import re
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import JSON, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from config.settings import KB_CATEGORIES
from db.base import Base, UTCDateTime, utcnow

VARIABLES = ("customer_name", "agent_name", "ticket_id", "sla_deadline", "eta", "category_name")
_VARIABLE = re.compile(r"\{([a-z_]+)\}")


class Stage(StrEnum):
    opening = "opening"
    confirmation = "confirmation"
    solution = "solution"
    soothing = "soothing"
    closing = "closing"


class ReplyTemplate(Base):
    __tablename__ = "reply_templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateIn(BaseModel):
    """A template as editors write it; refused when it uses unknown variables or stages."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "id": "soothe-delay-01", "stage": "soothing", "channels": ["web", "wechat"], "categories": [],
        "title": "致歉并承诺时间",
        "text": "非常抱歉让您久等了{customer_name}，我已加急处理，会在{eta}前给您明确答复。"}]})

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    stage: Stage
    channels: list[str] = Field(default_factory=lambda: ["web", "wechat"], min_length=1)
    categories: list[str] = Field(default_factory=list)
    title: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=2000)

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[str]) -> list[str]:
        unknown = set(v) - {"web", "wechat"}
        if unknown:
            raise ValueError(f"unknown channel(s): {', '.join(sorted(unknown))}")
        return v

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        unknown = set(v) - set(KB_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown category(ies): {', '.join(sorted(unknown))}")
        return v

    @field_validator("text")
    @classmethod
    def _variables(cls, v: str) -> str:
        unknown = set(_VARIABLE.findall(v)) - set(VARIABLES)
        if unknown:
            raise ValueError(f"unknown variable(s): {', '.join(sorted(unknown))} (allowed: {', '.join(VARIABLES)})")
        return v


class TemplateExists(Exception):
    pass


class TemplateNotFound(LookupError):
    pass


def template_json(t: ReplyTemplate) -> dict[str, Any]:
    return {"id": t.id, "stage": t.stage, "channels": t.channels, "categories": t.categories,
            "title": t.title, "text": t.text, "version": t.version, "updated_by": t.updated_by,
            "updated_at": t.updated_at.isoformat()}


class TemplateStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.revision = 0  # bumped on every change, so suggesters know to rebuild

    def list(self, stage: str | None = None, category: str | None = None,
             channel: str | None = None) -> builtins.list[ReplyTemplate]:
        with self._sessions() as session:
            rows = list(session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id)))
        return [t for t in rows
                if (not stage or t.stage == stage)
                and (not category or not t.categories or category in t.categories)
                and (not channel or channel in t.channels)]

    def get(self, template_id: str) -> ReplyTemplate:
        with self._sessions() as session:
            row = session.get(ReplyTemplate, template_id)
            if row is None:
                raise TemplateNotFound(template_id)
            return row

    def create(self, data: TemplateIn, actor: str) -> ReplyTemplate:
        with self._sessions.begin() as session:
            if session.get(ReplyTemplate, data.id) is not None:
                raise TemplateExists(data.id)
            row = ReplyTemplate(**data.model_dump(mode="json"), updated_by=actor, updated_at=utcnow())
            session.add(row)
        self.revision += 1
        return row

    def replace(self, template_id: str, data: TemplateIn, actor: str) -> ReplyTemplate:
        with self._sessions.begin() as session:
            row = session.get(ReplyTemplate, template_id)
            if row is None:
                raise TemplateNotFound(template_id)
            for key, value in data.model_dump(mode="json", exclude={"id"}).items():
                setattr(row, key, value)
            row.version += 1
            row.updated_by = actor
            row.updated_at = utcnow()
        self.revision += 1
        return row

    def delete(self, template_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(ReplyTemplate, template_id)
            if row is None:
                raise TemplateNotFound(template_id)
            session.delete(row)
        self.revision += 1

    def _add_missing(self, items: builtins.list[TemplateIn], actor: str) -> int:
        added = 0
        with self._sessions.begin() as session:
            existing = set(session.scalars(select(ReplyTemplate.id)))
            for item in items:
                if item.id not in existing:
                    session.add(ReplyTemplate(**item.model_dump(mode="json"), updated_by=actor, updated_at=utcnow()))
                    added += 1
        return added

    def seed(self, path: Path, actor: str = "seed") -> int:
        """Add the library's templates whose ids are not in the database yet."""
        items = [TemplateIn.model_validate(x) for x in yaml.safe_load(path.read_text("utf-8"))]
        try:
            added = self._add_missing(items, actor)
        except IntegrityError:
            # Another replica starting at the same moment seeded them first: add what is left.
            added = self._add_missing(items, actor)
        if added:
            self.revision += 1
        return added
