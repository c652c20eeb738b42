"""The gateway's HTTP client to Rasa's REST channel against a scripted HTTP server on loopback:
keep-alive reuse, the response framings, and every failure ending as RasaUnavailable, with a
connection never reused half-read."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

import pytest

from gateway.conversations import rasa_client
from gateway.conversations.rasa_client import RasaClient, RasaUnavailable

ANSWER = [{"recipient_id": "c1", "text": "宽带掉线可以先重启光猫。", "buttons": [
    {"title": "有帮助", "payload": '/feedback_helpful{"entry_id": "faq-1"}', "type": "postback"}]},
    {"recipient_id": "c1", "image": "https://example.invalid/x.png"},
    {"recipient_id": "c1", "custom": {"other": 1}},
    {"recipient_id": "c1", "custom": {"bot_decision": {"decision": "answer", "entry_id": "faq-1", "confidence": 0.9}}}]
# Text replies and the bot's decision (the gateway takes the latter out); nothing else.
EXPECTED = [{"text": "宽带掉线可以先重启光猫。",
             "buttons": [{"title": "有帮助", "payload": '/feedback_helpful{"entry_id": "faq-1"}'}]},
            {"custom": {"bot_decision": {"decision": "answer", "entry_id": "faq-1", "confidence": 0.9}}}]


def ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class HangUp(bytes):
    """A reply after which the server closes the connection."""


class ScriptedServer:
    """Answers each request with the next scripted reply: bytes, HangUp bytes, a coroutine
    function giving bytes, or None (hang up without answering)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.connections = 0
        self.requests: list[dict] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                self.requests.append({"head": head.decode(), "body": json.loads(await reader.readexactly(length))})
                reply = self.replies.pop(0)
                if reply is None:
                    break
                if callable(reply):
                    reply = await reply()
                writer.write(reply)
                await writer.drain()
                if isinstance(reply, HangUp):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self.server.close()


def run(coro):
    """The scenario on its own event loop in its own thread: a test module run earlier in the
    session (Playwright's sync API) may leave a loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_replies_are_read_and_one_connection_is_kept_alive():
    async def scenario():
        server = ScriptedServer([ok(json.dumps(ANSWER).encode())] * 3)
        async with server as url:
            client = RasaClient(url, timeout_s=5)
            for _ in range(3):
                assert await client.send("c1", "宽带掉线", {"request_id": "r1"}) == EXPECTED
            await client.close()
        assert server.connections == 1
        assert server.requests[0]["body"] == {"sender": "c1", "message": "宽带掉线", "metadata": {"request_id": "r1"}}
        assert server.requests[0]["head"].startswith("POST /webhooks/rest/webhook HTTP/1.1\r\n")
    run(scenario())


def test_chunked_and_connection_close_responses():
    body = json.dumps(ANSWER).encode()
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n%s\r\n" % (10, body[:10]) + b"%x;ext=1\r\n%s\r\n" % (len(body) - 10, body[10:])
               + b"0\r\n\r\n")

    async def scenario():
        server = ScriptedServer([chunked, ok(body, "Connection: close"), ok(body)])
        async with server as url:
            client = RasaClient(url, timeout_s=5)
            for _ in range(3):
                assert await client.send("c1", "x") == EXPECTED
            await client.close()
        assert server.connections == 2  # a new one after "Connection: close"
    run(scenario())


def test_a_connection_the_server_closed_while_idle_is_not_reused():
    async def scenario():
        body = json.dumps(ANSWER).encode()
        server = ScriptedServer([ok(body, "Connection: keep-alive"), ok(body)])
        async with server as url:
            client = RasaClient(url, timeout_s=5)
            assert await client.send("c1", "x") == EXPECTED
            client._idle[0].writer.transport.abort()  # as if the server had hung up meanwhile
            assert await client.send("c1", "x") == EXPECTED
            await client.close()
        assert server.connections == 2
    run(scenario())


def test_idle_connections_expire(monkeypatch):
    async def scenario():
        body = json.dumps(ANSWER).encode()
        server = ScriptedServer([ok(body), ok(body)])
        async with server as url:
            client = RasaClient(url, timeout_s=5)
            await client.send("c1", "x")
            client._idle[0].idle_since -= rasa_client.IDLE_S + 1
            await client.send("c1", "x")
            await client.close()
        assert server.connections == 2
    run(scenario())


@pytest.mark.parametrize("reply, why, connections", [
    # answered in full: the connection is fine for the next turn
    (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!", "HTTP 500", 1),
    (ok(b"{not json"), "unreadable reply", 1),
    (ok(b'{"text": "not a list"}'), "unreadable reply", 1),
    # no full answer: the connection is dropped
    (None, "ConnectionClosed", 2),  # hung up without answering
    # cut short
    (HangUp(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[]"), "without sending complete message body", 2),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "illegal status line", 2),
])
def test_failures_are_rasa_unavailable(reply, why, connections):
    async def scenario():
        server = ScriptedServer([reply, ok(json.dumps(ANSWER).encode())])
        async with server as url:
            client = RasaClient(url, timeout_s=5)
            with pytest.raises(RasaUnavailable, match=why):
                await client.send("c1", "x")
            assert len(client._idle) == 2 - connections
            assert await client.send("c1", "x") == EXPECTED  # the next turn works
            await client.close()
        assert server.connections == connections
    run(scenario())


def test_a_slow_rasa_times_out_and_its_connection_is_not_reused():
    async def slow():
        await asyncio.sleep(1)
        return ok(json.dumps(ANSWER).encode())

    async def scenario():
        server = ScriptedServer([slow, ok(json.dumps(ANSWER).encode())])
        async with server as url:
            client = RasaClient(url, timeout_s=0.2)
            with pytest.raises(RasaUnavailable, match="no answer within 0.2 s"):
                await client.send("c1", "x")
            assert client._idle == []
            client._timeout_s = 5
            assert await client.send("c1", "x") == EXPECTED  # not the late answer to the first
            await client.close()
        assert server.connections == 2
    run(scenario())


def test_nothing_listening_is_rasa_unavailable():
    with pytest.raises(RasaUnavailable, match="ConnectionRefusedError|OSError"):
        run(RasaClient("http://127.0.0.1:9", timeout_s=2).send("c1", "x"))
