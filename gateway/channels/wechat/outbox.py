"""Messages for the customer-service API, written to the database first (in the same
transaction as whatever produced them) and delivered by a worker: in order per customer, with
a bounded number of attempts and exponential back-off; every outcome is recorded and failures
are logged, so nothing is lost silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db.base import affected_rows, utcnow
from gateway.channels.wechat.client import DeliveryError
from gateway.channels.wechat.models import WeChatOutbound
from gateway.channels.wechat.text import split
from gateway.threads import run_in_threadpool

log = logging.getLogger("wechat.delivery")

# A row left in "sending" this long (its replica died mid-send) is tried again.
STALE_SENDING = timedelta(seconds=60)


@dataclass
class Delivery:
    id: int
    openid: str
    conversation_id: str | None
    source: str
    text: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None

    @classmethod
    def of(cls, row: WeChatOutbound) -> Delivery:
        return cls(row.id, row.openid, row.conversation_id, row.source, row.text, row.status,
                   row.attempts, row.last_error, row.created_at.isoformat(),
                   row.sent_at.isoformat() if row.sent_at else None)


class Outbox:
    def __init__(self, sessions: sessionmaker[Session], attempts: int, backoff_s: float) -> None:
        self._sessions = sessions
        self.max_attempts = max(1, attempts)
        self.backoff_s = backoff_s

    @staticmethod
    def enqueue(session: Session, openid: str, text: str, source: str,
                conversation_id: str | None = None, message_id: int | None = None) -> None:
        """Add the text (split under WeChat's size limit) inside the caller's transaction."""
        for piece in split(text):
            session.add(WeChatOutbound(openid=openid, text=piece, source=source, status="pending",
                                       conversation_id=conversation_id, message_id=message_id,
                                       attempts=0, next_attempt_at=utcnow(), created_at=utcnow()))

    def claim_due(self, limit: int = 20) -> list[WeChatOutbound]:
        """The oldest waiting message of each customer, when it is due, marked as sending
        (a compare-and-set, so two replicas never send the same row)."""
        now = utcnow()
        with self._sessions.begin() as session:
            session.execute(update(WeChatOutbound)
                            .where(WeChatOutbound.status == "sending",
                                   WeChatOutbound.next_attempt_at < now - STALE_SENDING)
                            .values(status="pending"))
            rows = session.scalars(select(WeChatOutbound)
                                   .where(WeChatOutbound.status.in_(("pending", "sending")))
                                   .order_by(WeChatOutbound.id).limit(500)).all()
            heads: dict[str, WeChatOutbound] = {}
            for row in rows:
                heads.setdefault(row.openid, row)  # later ones wait: order per customer
            claimed = []
            for row in heads.values():
                if row.status != "pending" or row.next_attempt_at > now:
                    continue
                won = affected_rows(session.execute(
                    update(WeChatOutbound)
                    .where(WeChatOutbound.id == row.id, WeChatOutbound.status == "pending")
                    .values(status="sending", next_attempt_at=now)))
                if won:
                    claimed.append(row)
                if len(claimed) >= limit:
                    break
            return claimed

    def sent(self, row_id: int) -> None:
        with self._sessions.begin() as session:
            row = session.get_one(WeChatOutbound, row_id)
            row.status, row.sent_at, row.attempts = "sent", utcnow(), row.attempts + 1

    def failed_attempt(self, row_id: int, error: DeliveryError) -> str:
        """Record a failed attempt; returns the new status (pending again, or failed for good)."""
        with self._sessions.begin() as session:
            row = session.get_one(WeChatOutbound, row_id)
            row.attempts += 1
            row.last_error = str(error)[:1000]
            if error.permanent or row.attempts >= self.max_attempts:
                row.status = "failed"
            else:
                row.status = "pending"
                row.next_attempt_at = utcnow() + timedelta(seconds=self.backoff_s * 2 ** (row.attempts - 1))
            return row.status

    def next_due_in(self) -> float | None:
        with self._sessions() as session:
            first = session.scalars(select(WeChatOutbound.next_attempt_at)
                                    .where(WeChatOutbound.status == "pending")
                                    .order_by(WeChatOutbound.next_attempt_at).limit(1)).first()
        return None if first is None else max(0.0, (first - utcnow()).total_seconds())

    def list(self, conversation_id: str | None = None, status: str | None = None,
             limit: int = 100) -> list[Delivery]:
        with self._sessions() as session:
            query = select(WeChatOutbound).order_by(WeChatOutbound.id.desc()).limit(limit)
            if conversation_id:
                query = query.where(WeChatOutbound.conversation_id == conversation_id)
            if status:
                query = query.where(WeChatOutbound.status == status)
            return [Delivery.of(r) for r in session.scalars(query)]


class DeliveryWorker:
    """Sends due outbox rows one at a time; woken at once when a row is added, and every
    `idle_s` anyway (rows added by another replica, retries coming due)."""

    def __init__(self, outbox: Outbox, send: Callable[[str, str], None] | None, idle_s: float = 1.0) -> None:
        self.outbox = outbox
        self._send = send  # None: the API is not configured; rows fail with a clear error
        self._idle_s = idle_s
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(self._wake), name="wechat-delivery")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def kick(self) -> None:
        """Wake the worker; callable from any thread."""
        if self._loop is None or self._wake is None or self._loop.is_closed():
            return
        try:
            if asyncio.get_running_loop() is self._loop:
                self._wake.set()
                return
        except RuntimeError:
            pass
        self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self, wake: asyncio.Event) -> None:
        while True:
            try:
                while await self.drain():
                    pass
                wait = await run_in_threadpool(self.outbox.next_due_in)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("wechat delivery loop error; retrying")
                wait = None
            timeout = self._idle_s if wait is None else min(self._idle_s, wait)
            try:
                await asyncio.wait_for(wake.wait(), timeout)
            except TimeoutError:
                pass
            wake.clear()

    async def drain(self) -> int:
        """Send every row due now; returns how many were attempted."""
        rows = await run_in_threadpool(self.outbox.claim_due)
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: WeChatOutbound) -> None:
        try:
            if self._send is None:
                raise DeliveryError("customer-service API not configured (wechat_app_id / wechat_app_secret)",
                                    permanent=True)
            try:
                await run_in_threadpool(self._send, row.openid, row.text)
            except DeliveryError:
                raise
            except Exception as exc:  # anything unexpected counts as a failed attempt
                raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        except DeliveryError as exc:
            status = await run_in_threadpool(self.outbox.failed_attempt, row.id, exc)
            level = logging.ERROR if status == "failed" else logging.WARNING
            log.log(level, "wechat delivery %s to %s (conversation %s) failed: %s; now %s",
                    row.id, row.openid, row.conversation_id, exc, status)
            return
        await run_in_threadpool(self.outbox.sent, row.id)
