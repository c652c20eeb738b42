"""What the WeChat channel does with one parsed message: route text through the gateway like
the web channel (customer = OpenID), answer within the passive-reply budget or defer the answer
to the customer-service API, and make WeChat's retries of one message a single bot turn.

Timing. Each request waits for the answer until its own deadline (arrival + budget, under
WeChat's 5 s). When the bot finishes, the answer goes out passively if some request of this
message is still waiting, otherwise through the customer-service API; the choice is recorded.
A retry arriving later gets the same passive reply again (WeChat retries only when it got no
answer, and shows at most one), or "success" when the API has it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.messages import BaseMessage

from gateway.channels.wechat import text as wxtext
from gateway.channels.wechat.inbox import Inbox, dedup_key
from gateway.channels.wechat.outbox import DeliveryWorker
from gateway.conversations.models import Conversation, ConversationState, Message
from gateway.threads import run_in_threadpool

if TYPE_CHECKING:  # the gateway imports no channel; only the type is needed here
    from gateway.conversations.gateway import Gateway

log = logging.getLogger("wechat")

CHANNEL = "wechat"
MAX_TEXT_CHARS = 2000
# How long a finished message's answer stays in memory for its retries (WeChat's three
# retries come within ~15 s; later ones are answered from the database).
KEEP_FINISHED_S = 60.0
# How long a request that finds another replica's claim follows it in the database.
FOLLOW_S = 30.0

WELCOME = ("您好，欢迎关注星联通信！我是智能客服，可以直接发文字向我提问，例如“宽带老是掉线怎么办”。"
           "需要人工服务请回复“转人工”。")
TEXT_ONLY = "抱歉，目前只能识别文字消息。请用文字描述您的问题，或回复“转人工”联系人工客服。"
EMPTY_TEXT = "请输入您想咨询的问题，例如“怎么查话费”。"
BUSY = "抱歉，系统繁忙，请稍后再试，或回复“转人工”联系人工客服。"


@dataclass
class _Pending:
    done: asyncio.Event = field(default_factory=asyncio.Event)
    waiters: int = 0
    reply: str | None = None
    delivery: str | None = None


class WeChatChannel:
    def __init__(self, gateway: Gateway, sessions: sessionmaker[Session], inbox: Inbox, worker: DeliveryWorker,
                 budget_s: float) -> None:
        self.gateway = gateway
        self._sessions = sessions
        self.inbox = inbox
        self.worker = worker
        self.budget_s = min(max(budget_s, 0.0), 4.5)
        self._pending: dict[str, _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, message: BaseMessage, arrived: float | None = None) -> str | None:
        """The passive reply's text, or None for WeChat's empty "success"."""
        deadline = (arrived if arrived is not None else time.monotonic()) + self.budget_s
        kind = message.type
        if kind == "event":
            event = getattr(message, "event", "")
            if event in ("subscribe", "subscribe_scan"):
                return WELCOME
            return None  # unsubscribe, menu clicks, location reports…: nothing to say
        if kind == "voice" and getattr(message, "recognition", None):
            content = message.recognition  # WeChat's speech recognition, when enabled
        elif kind == "text":
            content = message.content or ""
        else:
            return TEXT_ONLY  # image, video, location, link…
        content = content.replace("\x00", "").strip()[:MAX_TEXT_CHARS]
        if not content:
            return EMPTY_TEXT
        return await self._answer(dedup_key(message), message.source, kind, content, deadline)

    async def _answer(self, key: str, openid: str, kind: str, content: str, deadline: float) -> str | None:
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending()  # before any await: same-process retries join it
            if await run_in_threadpool(self.inbox.claim, key, openid, kind):
                self._spawn(self._process(key, pending, openid, content))
            else:
                self._spawn(self._follow(key, pending))
        pending.waiters += 1
        try:
            await asyncio.wait_for(pending.done.wait(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pass
        finally:
            pending.waiters -= 1
        if pending.done.is_set() and pending.delivery == "passive":
            return pending.reply
        return None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, key: str, pending: _Pending, openid: str, content: str) -> None:
        """The one bot turn of this message."""
        conversation_id = None
        status = "answered"
        try:
            offered = await run_in_threadpool(self._offered_buttons, openid)
            result = await self.gateway.handle(CHANNEL, openid, wxtext.choose(content, offered))
            conversation_id = result.conversation_id
            reply = wxtext.render(result.replies)
        except Exception:
            log.exception("wechat message %s could not be handled", key)
            status, reply = "failed", BUSY
        # Decided with no await in between: a waiting request of this message takes the
        # answer passively; with nobody waiting (all timed out) it goes through the API.
        if reply is None:
            delivery = "none"
        elif pending.waiters > 0 and len(reply.encode("utf-8")) <= wxtext.MAX_TEXT_BYTES:
            delivery = "passive"
        else:
            delivery = "custom"
        pending.reply, pending.delivery = reply, delivery
        pending.done.set()
        try:
            await run_in_threadpool(self.inbox.finish, key, status, conversation_id, reply, delivery)
        except Exception:
            log.exception("wechat message %s: answer not recorded (delivery %s)", key, delivery)
        if delivery == "custom":
            self.worker.kick()
        asyncio.get_running_loop().call_later(KEEP_FINISHED_S, self._pending.pop, key, None)

    async def _follow(self, key: str, pending: _Pending) -> None:
        """A retry whose first request is not in this process: follow the claim in the database."""
        stop = time.monotonic() + FOLLOW_S
        while time.monotonic() < stop:
            state = await run_in_threadpool(self.inbox.state, key)
            if state is not None and state.status != "processing":
                pending.reply, pending.delivery = state.reply, state.delivery
                break
            await asyncio.sleep(0.1)
        pending.done.set()
        asyncio.get_running_loop().call_later(KEEP_FINISHED_S, self._pending.pop, key, None)

    def _offered_buttons(self, openid: str) -> list[dict[str, str]]:
        """The buttons of the last thing said to this customer (after their last message), in
        the order they were numbered."""
        with self._sessions() as session:
            conv_id = session.scalars(
                select(Conversation.id)
                .where(Conversation.channel == CHANNEL, Conversation.customer_id == openid,
                       Conversation.state != ConversationState.closed.value)
                .order_by(Conversation.created_at.desc()).limit(1)).first()
            if conv_id is None:
                return []
            recent = session.scalars(select(Message).where(Message.conversation_id == conv_id)
                                     .order_by(Message.id.desc()).limit(20)).all()
        turn = []
        for m in recent:
            if m.sender == "customer":
                break
            turn.append(m)
        # What the customer saw since: the bot's turn as one numbered text, each agent or
        # system message as its own; they answer the last list they were shown.
        units: list[tuple[str, list[dict[str, str]]]] = []
        for m in reversed(turn):
            if m.sender == "bot" and units and units[-1][0] == "bot":
                units[-1][1].extend(m.buttons or [])
            else:
                units.append((m.sender, list(m.buttons or [])))
        return next((buttons for _, buttons in reversed(units) if buttons), [])

    async def close(self, grace_s: float = 5.0) -> None:
        """Let bot turns under way finish (their answers go to the outbox), then stop."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)
        for task in list(self._tasks):
            task.cancel()
