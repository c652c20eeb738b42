"""No customer message goes unanswered: the sweep behind a gateway that died mid-request.

The gateway stores a customer's message before routing it and the bot's reply after. When the
gateway replica is killed in between, or the database goes away before the reply is stored,
the message sits there with nothing after it. Every gateway replica runs this sweep: a bot-side
conversation whose last message is the customer's and which nothing has touched for
`after_s` gets the apology + 转人工 offer. Two replicas sweeping at once cannot both answer:
the claim is a compare-and-set on the conversation's `updated_at`, which every store of a
message or reply also moves.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.observability import metrics
from db.base import affected_rows, utcnow
from gateway.conversations.models import Conversation, ConversationState, Message
from gateway.handoffs import replies
from gateway.threads import sweep_forever

log = logging.getLogger("gateway.recovery")

# Conversations idle longer than this are not looked at (bounds the sweep's scan).
LOOKBACK = timedelta(days=1)


class UnansweredRecovery:
    def __init__(self, sessions: sessionmaker[Session], after_s: float) -> None:
        self._sessions = sessions
        self.after_s = after_s

    def candidates(self) -> list[tuple[str, datetime]]:
        """(conversation id, updated_at) of bot-side conversations left on a customer message."""
        now = utcnow()
        last_id = (select(func.max(Message.id)).where(Message.conversation_id == Conversation.id)
                   .correlate(Conversation).scalar_subquery())
        with self._sessions() as session:
            rows = session.execute(
                select(Conversation.id, Conversation.updated_at)
                .join(Message, Message.id == last_id)
                .where(Conversation.state == ConversationState.bot.value,
                       Conversation.updated_at < now - timedelta(seconds=self.after_s),
                       Conversation.updated_at > now - LOOKBACK,
                       Message.sender == "customer")
                .limit(500)
            ).all()
        return [(r[0], r[1]) for r in rows]

    def answer(self, conversation_id: str, seen_updated_at: datetime) -> bool:
        """Apologise in this conversation unless something touched it since it was seen."""
        with self._sessions.begin() as session:
            won = affected_rows(session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.updated_at == seen_updated_at,
                       Conversation.state == ConversationState.bot.value)
                .values(updated_at=utcnow())
            ))
            if not won:
                return False
            reply = replies.bot_unavailable()
            session.add(Message(conversation_id=conversation_id, sender="bot", text=reply["text"],
                                buttons=reply["buttons"]))
        metrics.BOT_UNAVAILABLE.labels("recovered").inc()
        log.warning("answered conversation %s left without a reply (its gateway died or the "
                    "database was away)", conversation_id)
        return True

    def sweep(self) -> int:
        return sum(self.answer(cid, seen) for cid, seen in self.candidates())

    async def run_forever(self, interval_s: float) -> None:
        await sweep_forever(interval_s, self.sweep, log, "unanswered-message sweep")
