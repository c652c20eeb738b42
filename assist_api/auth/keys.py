"""Issue, verify and revoke API keys.

Keys are 32 random bytes, so a plain SHA-256 is a safe at-rest hash (no dictionary to
attack) and lookups stay a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assist_api.auth.models import ApiKey
from db.base import utcnow


class Role(StrEnum):
    agent = "agent"
    editor = "editor"
    supervisor = "supervisor"  # reports and unanswered-question mining
    admin = "admin"


@dataclass
class Principal:
    name: str
    role: Role


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, name: str, role: Role) -> str:
        key = f"cs_{role.value}_{secrets.token_urlsafe(32)}"
        with self._sessions.begin() as session:
            session.add(ApiKey(name=name, role=role.value, key_hash=hash_key(key)))
        return key

    def verify(self, key: str) -> Principal | None:
        with self._sessions() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
            if row is None or row.revoked_at is not None:
                return None
            return Principal(row.name, Role(row.role))

    def is_active(self, name: str, role: Role) -> bool:
        """Whether `name` still holds an unrevoked key of `role` (a stream ticket's key)."""
        with self._sessions() as session:
            return session.scalars(select(ApiKey.id).where(
                ApiKey.name == name, ApiKey.role == role.value, ApiKey.revoked_at.is_(None))).first() is not None

    def revoke(self, name: str) -> int:
        with self._sessions.begin() as session:
            rows = list(session.scalars(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))))
            for row in rows:
                row.revoked_at = utcnow()
            return len(rows)
