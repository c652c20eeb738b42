"""Talk to the Rasa server's REST channel.

One POST per customer turn, so the client is h11 (the HTTP/1.1 protocol library under httpx)
on asyncio streams with a small keep-alive pool, rather than httpx itself: httpx spent ~0.85 ms
of CPU per call here (URL parsing, cookie jar, anyio checkpoints), this ~0.1–0.2 ms, on a
gateway whose whole turn costs a few ms. Connections are reused (keep-alive) and dropped on
any error, timeout or cancellation, so a half-read response never reaches the next turn. No
retries: a POST Rasa may have processed is never sent twice.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import h11

from common.bot_protocol import is_decision

WEBHOOK = "/webhooks/rest/webhook"
# An idle connection is closed after this long: well under the servers' own idle limits (Rasa
# 120 s, nginx 75 s), so the server never closes one just as it is reused.
IDLE_S = 4.0
MAX_IDLE = 32


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class _BadResponse(Exception):
    pass


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0
    protocol: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

    def usable(self, now: float) -> bool:
        return (now - self.idle_since < IDLE_S and not self.reader.at_eof()
                and not self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if url.scheme == "https" else None
        self._path = url.path.rstrip("/") + WEBHOOK
        host = self._host if url.port is None else f"{self._host}:{url.port}"
        self._headers = [("Host", host), ("Content-Type", "application/json"), ("Accept", "application/json")]
        self._timeout_s = timeout_s
        self._idle: list[_Connection] = []

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The bot's items for one customer message: text replies, and the decision message when
        the action server sent one (bot_protocol.split_replies separates them)."""
        body = json.dumps({"sender": sender, "message": text, "metadata": metadata or {}},
                          ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with asyncio.timeout(self._timeout_s):
                status, payload = await self._post(body)
        except TimeoutError as exc:
            raise RasaUnavailable(f"no answer within {self._timeout_s:g} s") from exc
        except (OSError, h11.ProtocolError, _BadResponse) as exc:
            # refused, reset, cut short, or not HTTP
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if status != 200:
            raise RasaUnavailable(f"HTTP {status}")
        try:
            return [self._reply(item) for item in json.loads(payload)
                    if item.get("text") or is_decision(item)]
        except (ValueError, AttributeError, TypeError) as exc:
            raise RasaUnavailable(f"unreadable reply: {exc}") from exc

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        conn = await self._connection()
        try:
            protocol = conn.protocol
            request = h11.Request(method="POST", target=self._path,
                                  headers=[*self._headers, ("Content-Length", str(len(body)))])
            conn.writer.write(protocol.send(request) + protocol.send(h11.Data(data=body))
                              + protocol.send(h11.EndOfMessage()))
            status, payload = await _read_response(conn)
        except BaseException:
            conn.close()  # whatever is left on it belongs to this request
            raise
        if conn.protocol.our_state is h11.DONE and conn.protocol.their_state is h11.DONE \
                and len(self._idle) < MAX_IDLE:
            conn.protocol.start_next_cycle()
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()  # the server closes it (Connection: close, HTTP/1.0) or it is full
        return status, payload

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # the most recently used: the least likely to be stale
            if conn.usable(now):
                return conn
            conn.close()
        reader, writer = await asyncio.open_connection(
            self._host, self._port, ssl=self._ssl, server_hostname=self._host if self._ssl else None)
        return _Connection(reader, writer)

    @staticmethod
    def _reply(item: dict[str, Any]) -> dict[str, Any]:
        """A text reply (with its buttons), or the bot's decision message as it came (the
        caller takes it out: bot_protocol.split_replies)."""
        if not item.get("text"):
            return {"custom": item["custom"]}
        reply: dict[str, Any] = {"text": item["text"]}
        if item.get("buttons"):
            reply["buttons"] = [{"title": b["title"], "payload": b["payload"]} for b in item["buttons"]]
        return reply

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


async def _read_response(conn: _Connection) -> tuple[int, bytes]:
    """(status, body) of one response, read through h11 (length, chunked or close-delimited)."""
    status = 0
    chunks: list[bytes] = []
    while True:
        event = conn.protocol.next_event()
        if event is h11.NEED_DATA:
            conn.protocol.receive_data(await conn.reader.read(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return status, b"".join(chunks)
        elif isinstance(event, h11.ConnectionClosed):
            raise _BadResponse("the connection closed before the response ended")
