"""KB store: every change is a new version snapshot plus an audit row, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.base import utcnow
from db.engine import session_factory
from kb.models import AuditLog, KBEntry, KBEntryVersion, KBState
from kb.schema import CONTENT_FIELDS, EntryContent, EntryRecord, to_record
from kb.workflow import EDITABLE_STATUSES, Status, check_transition

DEFAULT_ACTOR = "system"


class StoreError(Exception):
    """Base class for refusals a caller should show to the user as-is."""


class EntryNotFound(StoreError, KeyError):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"no KB entry with id {entry_id!r}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class EntryExists(StoreError):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"a KB entry with id {entry_id!r} already exists")


class VersionNotFound(StoreError):
    def __init__(self, entry_id: str, version: int) -> None:
        super().__init__(f"entry {entry_id} has no version {version}")


class VersionConflict(StoreError):
    def __init__(self, entry_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"entry {entry_id} changed meanwhile (you edited version {expected}, it is now {actual})"
        )


class NotEditable(StoreError):
    def __init__(self, entry_id: str, status: str) -> None:
        super().__init__(f"entry {entry_id} is {status}; move it back to draft before editing")


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _content_of(entry: KBEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [_jsonable(before.get(name)), _jsonable(after.get(name))]
        for name in after
        if before.get(name) != after.get(name)
    }


class KBStore:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._sessions = session_factory(database_url)

    # ---- reads ---------------------------------------------------------------------------
    def get(self, entry_id: str) -> KBEntry:
        with self._sessions() as session:
            entry = session.get(KBEntry, entry_id)
            if entry is None:
                raise EntryNotFound(entry_id)
            return entry

    def list_entries(
        self, status: str | None = None, category: str | None = None
    ) -> list[KBEntry]:
        stmt = select(KBEntry).order_by(KBEntry.id)
        if status:
            stmt = stmt.where(KBEntry.status == Status(status).value)
        if category:
            stmt = stmt.where(KBEntry.category == category)
        with self._sessions() as session:
            return list(session.scalars(stmt))

    def published(self) -> list[KBEntry]:
        return self.list_entries(status=Status.published)

    def versions(self, entry_id: str) -> list[KBEntryVersion]:
        with self._sessions() as session:
            if session.get(KBEntry, entry_id) is None:
                raise EntryNotFound(entry_id)
            stmt = (
                select(KBEntryVersion)
                .where(KBEntryVersion.entry_id == entry_id)
                .order_by(KBEntryVersion.version)
            )
            return list(session.scalars(stmt))

    def audit(self, entry_id: str | None = None, limit: int = 200) -> list[AuditLog]:
        stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if entry_id is not None:
            stmt = stmt.where(AuditLog.entity_type == "kb_entry", AuditLog.entity_id == entry_id)
        with self._sessions() as session:
            return list(session.scalars(stmt))

    def revision(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(KBState.value).where(KBState.key == "revision")) or 0

    # ---- writes --------------------------------------------------------------------------
    def create(
        self,
        entry_id: str,
        content: EntryContent | dict[str, Any],
        actor: str = DEFAULT_ACTOR,
        status: Status | str = Status.draft,
    ) -> KBEntry:
        record = EntryRecord.model_validate(
            {"id": entry_id, "status": status, **_as_dict(content)}
        )
        self._check_actor(actor)
        with self._transaction() as session:
            if session.get(KBEntry, entry_id) is not None:
                raise EntryExists(entry_id)
            return self._insert(session, record, actor, action="create")

    def update(
        self,
        entry_id: str,
        changes: dict[str, Any],
        actor: str = DEFAULT_ACTOR,
        expected_version: int | None = None,
    ) -> KBEntry:
        unknown = set(changes) - set(CONTENT_FIELDS)
        if unknown:
            raise StoreError(f"cannot change field(s): {', '.join(sorted(unknown))}")
        self._check_actor(actor)
        with self._transaction() as session:
            entry = self._locked(session, entry_id)
            if expected_version is not None and entry.version != expected_version:
                raise VersionConflict(entry_id, expected_version, entry.version)
            if Status(entry.status) not in EDITABLE_STATUSES:
                raise NotEditable(entry_id, entry.status)
            merged = EntryContent.model_validate({**_content_of(entry), **changes})
            return self._apply(session, entry, merged.model_dump(), actor, "update")

    def transition(self, entry_id: str, target: Status | str, actor: str = DEFAULT_ACTOR) -> KBEntry:
        self._check_actor(actor)
        with self._transaction() as session:
            entry = self._locked(session, entry_id)
            new_status = check_transition(entry_id, entry.status, str(target))
            before = entry.status
            entry.status = new_status.value
            return self._record_change(
                session, entry, actor, "transition", {"status": [before, new_status.value]}
            )

    def restore(self, entry_id: str, version: int, actor: str = DEFAULT_ACTOR) -> KBEntry:
        """Bring back the content of an old version as a new version; status is kept."""
        self._check_actor(actor)
        with self._transaction() as session:
            entry = self._locked(session, entry_id)
            old = session.get(KBEntryVersion, (entry_id, version))
            if old is None:
                raise VersionNotFound(entry_id, version)
            if Status(entry.status) not in EDITABLE_STATUSES:
                raise NotEditable(entry_id, entry.status)
            content = EntryContent.model_validate(
                {name: old.snapshot.get(name) for name in CONTENT_FIELDS}
            ).model_dump()
            return self._apply(
                session, entry, content, actor, "restore", extra={"restored_version": version}
            )

    def import_records(
        self, records: Iterable[EntryRecord], actor: str = DEFAULT_ACTOR
    ) -> ImportReport:
        """Create new ids, update changed ones; all records in one transaction."""
        report = ImportReport()
        self._check_actor(actor)
        with self._transaction() as session:
            for record in records:
                entry = session.get(KBEntry, record.id)
                if entry is None:
                    self._insert(session, record, actor, action="import", keep_metadata=True)
                    report.created.append(record.id)
                    continue
                content = record.content()
                status_changed = entry.status != record.status.value
                if _content_of(entry) == content and not status_changed:
                    report.unchanged.append(record.id)
                    continue
                old_status = entry.status
                entry.status = record.status.value  # an import sets status directly
                extra = {"status": [old_status, entry.status]} if status_changed else None
                self._apply(session, entry, content, actor, "import", extra=extra)
                report.updated.append(record.id)
        return report

    # ---- internals -----------------------------------------------------------------------
    @staticmethod
    def _check_actor(actor: str) -> None:
        if not actor or not actor.strip() or len(actor) > 128:
            raise StoreError("actor must be 1 to 128 characters")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._sessions)

    @staticmethod
    def _locked(session: Session, entry_id: str) -> KBEntry:
        # FOR UPDATE serialises concurrent editors of one entry on PostgreSQL; SQLite ignores it
        # and serialises writers itself.
        entry = session.scalars(
            select(KBEntry).where(KBEntry.id == entry_id).with_for_update()
        ).one_or_none()
        if entry is None:
            raise EntryNotFound(entry_id)
        return entry

    def _insert(
        self,
        session: Session,
        record: EntryRecord,
        actor: str,
        action: str,
        keep_metadata: bool = False,
    ) -> KBEntry:
        now = utcnow()
        entry = KBEntry(
            id=record.id,
            status=record.status.value,
            version=(record.version or 1) if keep_metadata else 1,
            created_at=(record.created_at or now) if keep_metadata else now,
            updated_at=(record.updated_at or now) if keep_metadata else now,
            **record.content(),
        )
        session.add(entry)
        changes = {k: [None, _jsonable(v)] for k, v in record.content().items()}
        changes["status"] = [None, entry.status]
        self._snapshot(session, entry, actor, action, changes)
        return entry

    def _apply(
        self,
        session: Session,
        entry: KBEntry,
        content: dict[str, Any],
        actor: str,
        action: str,
        extra: dict[str, Any] | None = None,
    ) -> KBEntry:
        changes = _diff(_content_of(entry), content)
        for name, value in content.items():
            setattr(entry, name, value)
        if extra:
            changes.update(extra)
        return self._record_change(session, entry, actor, action, changes)

    def _record_change(
        self, session: Session, entry: KBEntry, actor: str, action: str, changes: dict[str, Any]
    ) -> KBEntry:
        entry.version += 1
        entry.updated_at = utcnow()
        self._snapshot(session, entry, actor, action, changes)
        return entry

    @staticmethod
    def _snapshot(
        session: Session, entry: KBEntry, actor: str, action: str, changes: dict[str, Any]
    ) -> None:
        session.flush()
        session.add(
            KBEntryVersion(
                entry_id=entry.id,
                version=entry.version,
                snapshot=to_record(entry),
                action=action,
                actor=actor,
                created_at=utcnow(),
            )
        )
        session.add(
            AuditLog(
                at=utcnow(),
                actor=actor,
                action=action,
                entity_type="kb_entry",
                entity_id=entry.id,
                version=entry.version,
                changes=changes,
            )
        )
        session.execute(
            update(KBState).where(KBState.key == "revision").values(value=KBState.value + 1)
        )


class _Transaction:
    """Context manager: a session that commits on success and rolls back on any error."""

    def __init__(self, sessions) -> None:
        self._session = sessions()

    def __enter__(self) -> Session:
        self._session.begin()
        return self._session

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._session.commit()
            else:
                self._session.rollback()
        finally:
            self._session.close()


def _as_dict(content: EntryContent | dict[str, Any]) -> dict[str, Any]:
    return content.model_dump() if isinstance(content, EntryContent) else dict(content)
