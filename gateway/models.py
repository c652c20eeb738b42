"""Every table of the gateway, in one import: conversations, turns, CSAT, handoffs and the
WeChat channel's inbox, outbox and nonces. The migration environment reaches them through
`assist_api.models`, which imports this module."""

from __future__ import annotations

from gateway.channels.wechat import models as wechat
from gateway.conversations import csat, turns
from gateway.conversations import models as conversations
from gateway.handoffs import models as handoffs

# The modules that declare tables; importing them registers the tables on db.base.Base.
__all__ = ["conversations", "csat", "handoffs", "turns", "wechat"]
