"""Simulated web-channel customers for load and fault runs: each one sends a message through
the balancer, waits for the answer, thinks, and sends the next, until told to stop (bounded in
count and time; loopback targets only). Every send is recorded for the checks and statistics."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx

from gateway.handoffs import replies as canned

# What customers of a telecom operator ask first; every tenth conversation asks for a human.
QUESTIONS = ("话费余额怎么查", "宽带老是掉线怎么办", "怎么开通国际漫游", "套餐怎么改", "流量用完了怎么办",
             "你好", "手机丢了怎么挂失", "发票怎么开", "携号转网要什么条件", "5G信号不好", "谢谢")
HUMAN = "转人工"
APOLOGY = canned.bot_unavailable()["text"]
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass
class Send:
    customer: str
    started: float  # monotonic
    finished: float
    status: int | str  # HTTP status, or the exception name when no response came back
    state: str | None = None
    texts: list[str] = field(default_factory=list)
    conversation_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def apology(self) -> bool:
        return APOLOGY in self.texts

    @property
    def latency_s(self) -> float:
        return self.finished - self.started


class Customers:
    """`count` customers in a background thread with its own event loop."""

    def __init__(self, base_url: str, count: int, think_s: tuple[float, float] = (0.3, 1.0),
                 human_share: float = 0.1, max_s: float = 600.0, seed: int = 0,
                 timeout_s: float = 60.0) -> None:
        if urlparse(base_url).hostname not in LOOPBACK:
            raise ValueError("load is only ever sent to loopback addresses")
        self.base_url = base_url
        self.count = count
        self.think_s = think_s
        self.human_share = human_share
        self.max_s = max_s  # hard bound whatever the caller does
        self.timeout_s = timeout_s
        self.random = random.Random(seed)
        self.sends: list[Send] = []
        self.crashed: list[str] = []  # simulated customers that died of a bug in this driver
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Customers:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Send]:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.timeout_s + 10)
        return self.sends

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=self.count + 10, max_keepalive_connections=self.count + 10)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s, limits=limits) as client:
            deadline = time.monotonic() + self.max_s
            outcomes = await asyncio.gather(*(self._customer(client, i, deadline) for i in range(self.count)),
                                            return_exceptions=True)
            self.crashed = [repr(o) for o in outcomes if isinstance(o, BaseException)]

    async def _customer(self, client: httpx.AsyncClient, index: int, deadline: float) -> None:
        rnd = random.Random(self.random.random())
        await asyncio.sleep(rnd.uniform(0, self.think_s[1]))  # customers do not all start at once
        session = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            customer = f"load-{index}-{session}"
            conversation = None
            for turn in range(rnd.randint(2, 6)):
                if self._stop.is_set() or time.monotonic() >= deadline:
                    return
                wants_human = turn > 0 and rnd.random() < self.human_share
                text = HUMAN if wants_human else rnd.choice(QUESTIONS)
                if wants_human:
                    # An impatient double send: both land, at most one escalation record.
                    sends = await asyncio.gather(self._send(client, customer, text, conversation),
                                                 self._send(client, customer, text, conversation))
                else:
                    sends = [await self._send(client, customer, text, conversation)]
                for s in sends:
                    conversation = conversation or s.conversation_id
                if wants_human:
                    break  # waits for the agent: this customer's next visit is a new conversation
                await asyncio.sleep(rnd.uniform(*self.think_s))
            session += 1

    async def _send(self, client: httpx.AsyncClient, customer: str, text: str, conversation: str | None) -> Send:
        body = {"customer_id": customer, "text": text}
        if conversation:
            body["conversation_id"] = conversation
        started = time.monotonic()
        try:
            response = await client.post("/api/channels/web/messages", json=body)
            send = Send(customer, started, time.monotonic(), response.status_code)
            if response.status_code == 200:
                data = response.json()
                send.state = data["state"]
                send.texts = [r["text"] for r in data["replies"]]
                send.conversation_id = data["conversation_id"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:  # no or unreadable response
            send = Send(customer, started, time.monotonic(), type(exc).__name__)
        self.sends.append(send)
        return send


def latency_summary(sends: list[Send]) -> dict:
    import numpy as np

    ok = [s.latency_s * 1000 for s in sends if s.ok]
    if not ok:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    return {k: round(float(np.percentile(ok, q)), 1) for k, q in (("p50", 50), ("p95", 95), ("p99", 99))} | {
        "max": round(max(ok), 1)}
