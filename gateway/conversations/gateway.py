"""The gateway's routing of one customer message by conversation state."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from common.bot_protocol import BotDecision, split_replies
from common.observability import metrics
from common.observability.context import CONVERSATION_ID, METADATA_KEY, request_id
from gateway.conversations.models import ConversationState
from gateway.conversations.pii import mask_pii
from gateway.conversations.rasa_client import RasaClient, RasaUnavailable
from gateway.conversations.service import ConversationService
from gateway.handoffs import replies
from gateway.handoffs.models import HandoffReason
from gateway.handoffs.service import HandoffService
from gateway.handoffs.waiting import WaitingRoom
from gateway.threads import run_in_threadpool

log = logging.getLogger("gateway")



@dataclass
class GatewayReply:
    conversation_id: str
    state: str
    replies: list[dict[str, Any]] = field(default_factory=list)


class Gateway:
    def __init__(self, conversations: ConversationService, handoffs: HandoffService, rasa: RasaClient,
                 reply_store_retry_s: float = 0.0, waiting: WaitingRoom | None = None):
        self.conversations = conversations
        self.handoffs = handoffs
        self.waiting = waiting
        self.rasa = rasa
        self.reply_store_retry_s = reply_store_retry_s

    async def handle(self, channel: str, customer_id: str, text: str,
                     conversation_id: str | None = None, profile: dict[str, str] | None = None) -> GatewayReply:
        # Stored before routing: whatever happens next, the customer's message is not lost.
        conv = await run_in_threadpool(self.conversations.receive, channel, customer_id,
                                       conversation_id, text, profile)
        CONVERSATION_ID.set(conv.id)  # for the logs of the rest of this request
        if text.strip() in (replies.CONFIRM_PAYLOAD, replies.DISPUTE_PAYLOAD):
            # An answer to the resolution check; a stale click on an old check does nothing.
            return await run_in_threadpool(self._customer_verdict, conv.id, customer_id, text.strip())
        if conv.state != ConversationState.bot:
            # Handed off: the bot stays silent and the agent console shows the message; while
            # still queued the customer hears where they stand (at most once a minute).
            holding = []
            if conv.state == ConversationState.queued and self.waiting is not None:
                holding = await run_in_threadpool(self.waiting.on_customer_message, conv.id, text)
            if not holding:
                return GatewayReply(conv.id, conv.state, [])
            return GatewayReply(conv.id, await self._store_reply(conv.id, holding), holding)
        try:
            # Rasa keeps its own tracker store, so it gets the masked text too.
            # The request id travels in the message metadata to the action server's logs.
            items = await self.rasa.send(conv.id, mask_pii(text),
                                         {"channel": channel, METADATA_KEY: request_id()})
            # The action server's decision rides along as data: stored, never shown.
            bot_replies, decision = split_replies(items)
            if not bot_replies:
                # Every path of the bot answers something; nothing back means an action failed
                # (typically the action server is down), and the customer must not get silence.
                raise RasaUnavailable("empty reply (action server down?)")
        except RasaUnavailable as exc:
            log.warning("rasa unavailable for conversation %s: %s", conv.id, exc)
            metrics.BOT_UNAVAILABLE.labels("rasa").inc()
            bot_replies, decision = await run_in_threadpool(self._without_bot, conv.id, text), None
        state = await self._store_reply(conv.id, bot_replies, decision)
        return GatewayReply(conv.id, state, bot_replies)

    async def _store_reply(self, conversation_id: str, bot_replies: list[dict[str, Any]],
                           decision: BotDecision | None = None) -> str:
        """Store the bot's reply, riding out a short database outage (a PostgreSQL restart):
        the customer's message is already stored, and its answer should not be thrown away.
        Past the deadline the error goes up (503) and the recovery sweep answers later."""
        deadline = time.monotonic() + self.reply_store_retry_s
        delay = 0.2
        while True:
            try:
                return await run_in_threadpool(self.conversations.reply, conversation_id, bot_replies, decision)
            except DBAPIError as exc:
                if not exc.connection_invalidated and not _is_connection_error(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("database away while storing a reply to %s; retrying", conversation_id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _customer_verdict(self, conversation_id: str, customer_id: str, payload: str) -> GatewayReply:
        """The customer answers the resolution check: 已解决 closes the case, 还没解决 reopens it."""
        handoff = self.handoffs.for_conversation(conversation_id)
        if handoff is None or handoff.status != "resolved":
            current = self.conversations.get(conversation_id)
            return GatewayReply(conversation_id, current.state, [])
        actor = f"customer:{customer_id}"
        if payload == replies.CONFIRM_PAYLOAD:
            self.handoffs.transition(handoff.id, "close", actor, note="customer confirmed", by_customer=True)
            answer = [{"text": replies.resolution_confirmed(handoff.id)}]
        else:
            self.handoffs.transition(handoff.id, "reopen", actor, note="customer says not solved", by_customer=True)
            answer = [{"text": replies.resolution_disputed()}]
        state = self.conversations.reply(conversation_id, answer)
        return GatewayReply(conversation_id, state, answer)

    def _without_bot(self, conversation_id: str, text: str) -> list[dict[str, Any]]:
        """Rasa or the action server is down: apologise and offer a human; a request for a
        human is honoured by the gateway itself."""
        if text.strip() in (replies.HUMAN_REQUEST_PAYLOAD, *replies.HUMAN_REQUEST_TEXTS):
            outcome = self.handoffs.create(conversation_id, HandoffReason.user_request, actor="gateway")
            return [{"text": replies.handoff_confirmation(outcome, self.handoffs.levels)}]
        return [replies.bot_unavailable()]


def _is_connection_error(exc: DBAPIError) -> bool:
    """Connection-level failures (server restarting, connection dropped), not bad SQL."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))
