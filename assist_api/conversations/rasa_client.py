"""Talk to the Rasa server's REST channel.

One POST per customer turn, so the client is a small HTTP/1.1 keep-alive client on asyncio
streams rather than httpx: httpx spent ~0.85 ms of CPU per call here (URL parsing, cookie
jar, anyio checkpoints), the streams ~0.1 ms, on a gateway whose whole turn costs a few ms.
Connections are reused (keep-alive) and dropped on any error, timeout or cancellation, so a
half-read response never reaches the next turn. No retries: a POST Rasa may have processed
is never sent twice.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
        self._head = (f"POST {self._path} HTTP/1.1\r\nHost: {host}\r\n"
                      "Content-Type: application/json\r\nAccept: application/json\r\n").encode()
        self._timeout_s = timeout_s
        self._idle: list[_Connection] = []

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": text, "metadata": metadata or {}},
                          ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with asyncio.timeout(self._timeout_s):
                status, payload = await self._post(body)
        except TimeoutError as exc:
            raise RasaUnavailable(f"no answer within {self._timeout_s:g} s") from exc
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError, _BadResponse) as exc:
            # refused, reset, cut short, or not HTTP
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if status != 200:
            raise RasaUnavailable(f"HTTP {status}")
        try:
            return [self._reply(item) for item in json.loads(payload) if item.get("text")]
        except (ValueError, AttributeError, TypeError) as exc:
            raise RasaUnavailable(f"unreadable reply: {exc}") from exc

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        conn = await self._connection()
        try:
            conn.writer.write(b"%sContent-Length: %d\r\n\r\n%s" % (self._head, len(body), body))
            status, payload, keep = await _read_response(conn.reader)
        except BaseException:
            conn.close()  # whatever is left on it belongs to this request
            raise
        if keep and len(self._idle) < MAX_IDLE:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()
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
        reply: dict[str, Any] = {"text": item["text"]}
        if item.get("buttons"):
            reply["buttons"] = [{"title": b["title"], "payload": b["payload"]} for b in item["buttons"]]
        return reply

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the connection may be reused) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise _BadResponse(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(rest[:3])
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status < 200 or status in (204, 304):
        return status, b"", keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
            pass
        return status, b"".join(chunks), keep
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"])), keep
    return status, await reader.read(), False  # delimited by the server closing
