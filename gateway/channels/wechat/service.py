"""The WeChat channel's parts, built once per gateway process from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from gateway.channels.wechat.channel import CHANNEL, WeChatChannel
from gateway.channels.wechat.client import WeChatAPI
from gateway.channels.wechat.codec import Codec
from gateway.channels.wechat.inbox import Inbox
from gateway.channels.wechat.outbox import DeliveryWorker, Outbox
from gateway.channels.wechat.security import NonceGuard
from gateway.channels.wechat.text import render
from gateway.conversations.models import Conversation, Message

if TYPE_CHECKING:  # the gateway imports no channel; only the type is needed here
    from gateway.conversations.gateway import Gateway


@dataclass
class WeChatService:
    settings: Settings
    codec: Codec
    nonces: NonceGuard
    channel: WeChatChannel
    outbox: Outbox
    worker: DeliveryWorker
    api: WeChatAPI | None

    @property
    def token(self) -> str:
        return self.settings.wechat_token or ""

    def relay_hook(self, session: Session, conv: Conversation, msg: Message) -> None:
        """Agent replies (and system messages such as the resolution check) on a WeChat
        conversation go to the customer through the customer-service API."""
        if conv.channel != CHANNEL or msg.sender not in ("agent", "system"):
            return
        text = render([{"text": msg.text, "buttons": msg.buttons}])
        if text:
            Outbox.enqueue(session, conv.customer_id, text, msg.sender, conv.id, msg.id)
            event.listen(session, "after_commit", lambda _s: self.worker.kick(), once=True)


def build(settings: Settings, sessions: sessionmaker[Session], gateway: Gateway) -> WeChatService:
    api = None
    if settings.wechat_app_id and settings.wechat_app_secret:
        api = WeChatAPI(settings.wechat_app_id, settings.wechat_app_secret,
                        settings.wechat_api_base_url, settings.wechat_api_timeout_s, settings.redis_url)
    outbox = Outbox(sessions, settings.wechat_delivery_attempts, settings.wechat_delivery_backoff_s)
    worker = DeliveryWorker(outbox, api.send_text if api else None)
    channel = WeChatChannel(gateway, sessions, Inbox(sessions), worker, settings.wechat_passive_reply_budget_s)
    return WeChatService(
        settings=settings,
        codec=Codec(settings.wechat_token or "", settings.wechat_encoding_aes_key, settings.wechat_app_id),
        nonces=NonceGuard(sessions, settings.wechat_max_clock_skew_s),
        channel=channel, outbox=outbox, worker=worker, api=api,
    )
