"""Is this request really from WeChat, and not a replay? Signature (wechatpy), timestamp
window, and nonces bound to the body they were first seen with (durable, shared by replicas)."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from db.base import utcnow
from gateway.channels.wechat.models import WeChatNonce


class Refused(Exception):
    """The request is not accepted as WeChat's (bad signature, stale timestamp, replayed nonce)."""


def verify_signature(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> None:
    if not (signature and timestamp and nonce):
        raise Refused("signature, timestamp and nonce are required")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise Refused("bad signature") from None


def check_timestamp(timestamp: str, max_skew_s: int, now: float | None = None) -> int:
    """WeChat's timestamp must be close to our clock: an old (or future) one is a replay."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise Refused("timestamp is not a number") from None
    now = time.time() if now is None else now
    if abs(now - value) > max_skew_s:
        raise Refused(f"timestamp outside the {max_skew_s} s window")
    return value


def body_hash(body: bytes | str) -> str:
    return hashlib.sha256(body.encode("utf-8") if isinstance(body, str) else body).hexdigest()


class NonceGuard:
    """Remembers every nonce inside the replay window, with the hash of the body it signed.

    The plain-mode signature covers token, timestamp and nonce but not the body, so a captured
    (signature, timestamp, nonce) must not carry another body: the same nonce with a different
    body is refused. The identical request again (WeChat's retry, or a verbatim replay) is let
    through: MsgId deduplication makes it harmless (no second bot turn, the same answer)."""

    def __init__(self, sessions: sessionmaker[Session], window_s: int) -> None:
        self._sessions = sessions
        self._window_s = window_s
        self._last_purge = 0.0

    def admit(self, nonce: str, timestamp: int, digest: str) -> None:
        if len(nonce) > 64:
            raise Refused("nonce too long")
        self._purge()
        try:
            with self._sessions.begin() as session:
                session.add(WeChatNonce(nonce=nonce, timestamp=timestamp, body_hash=digest, seen_at=utcnow()))
            return
        except IntegrityError:
            pass
        with self._sessions() as session:
            seen = session.get(WeChatNonce, nonce)
        if seen is None or seen.timestamp != timestamp or seen.body_hash != digest:
            raise Refused("nonce already used")

    def _purge(self) -> None:
        """Forget nonces older than twice the window (their timestamps are refused anyway)."""
        now = time.monotonic()
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        cutoff = utcnow() - timedelta(seconds=2 * self._window_s)
        with self._sessions.begin() as session:
            session.execute(delete(WeChatNonce).where(WeChatNonce.seen_at < cutoff))
