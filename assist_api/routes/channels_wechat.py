"""The WeChat official-account channel's HTTP edge: the server URL configured on the account
(URL verification and message push) and the delivery state of customer-service API messages."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from wechatpy.replies import create_reply

from assist_api.deps import CurrentAgent, WeChatDep
from db.engine import session_factory
from gateway.channels.wechat import xmlsafe
from gateway.channels.wechat.codec import SafeModeUnavailable
from gateway.channels.wechat.security import Refused, body_hash, check_timestamp, verify_signature
from gateway.channels.wechat.service import WeChatService, build

log = logging.getLogger("wechat")


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Runs after the application's own start-up (the gateway exists by then)."""
    settings = app.state.settings
    service = None
    if settings.wechat_token:
        service = build(settings, session_factory(settings.database_url), app.state.gateway)
        app.state.conversations.message_hooks.append(service.relay_hook)
        service.worker.start()
    app.state.wechat = service
    yield
    if service is not None:
        await service.channel.close()  # bot turns under way finish first
        await service.worker.stop()  # undelivered rows stay in the outbox for the next start


router = APIRouter(prefix="/api/channels/wechat", tags=["WeChat channel"], lifespan=lifespan)

PLAIN_EXAMPLE = """<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>
<FromUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></FromUserName>
<CreateTime>1732418400</CreateTime><MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[宽带老是掉线怎么办]]></Content><MsgId>24612345678901234</MsgId></xml>"""
REPLY_EXAMPLE = """<xml><ToUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></ToUserName>
<FromUserName><![CDATA[gh_0123456789ab]]></FromUserName><CreateTime>1732418401</CreateTime>
<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[宽带频繁掉线，可以先重启光猫……]]></Content></xml>"""


@dataclass(frozen=True)
class SignedRequest:
    """A request whose signature (sha1 of the sorted token, timestamp and nonce) checked out."""

    timestamp: str
    nonce: str
    at: int  # the timestamp, fresh enough


def signed_request(
    service: WeChatDep,
    signature: Annotated[str | None, Query(examples=["d4b1b2d0c0b7f6c8e9f0a1b2c3d4e5f6a7b8c9d0"])] = None,
    timestamp: Annotated[str | None, Query(examples=["1732418400"])] = None,
    nonce: Annotated[str | None, Query(examples=["1514711492"])] = None,
) -> SignedRequest:
    """403 unless WeChat signed the request and its timestamp is fresh."""
    try:
        verify_signature(service.token, signature, timestamp, nonce)
        if not (timestamp and nonce):  # verify_signature refuses these already; this tells the type checker
            raise Refused("signature, timestamp and nonce are required")
        return SignedRequest(timestamp, nonce, check_timestamp(timestamp, service.settings.wechat_max_clock_skew_s))
    except Refused as exc:
        log.warning("wechat request refused: %s", exc)
        raise HTTPException(403, f"refused: {exc}") from None


Signed = Annotated[SignedRequest, Depends(signed_request)]


async def _admit_nonce(service: WeChatService, nonce: str, timestamp: int, body: bytes | str) -> None:
    try:
        await run_in_threadpool(service.nonces.admit, nonce, timestamp, body_hash(body))
    except Refused as exc:
        log.warning("wechat request refused: %s", exc)
        raise HTTPException(403, f"refused: {exc}") from None


@router.get("", response_class=PlainTextResponse, responses={
    200: {"content": {"text/plain": {"example": "5936263937124810571"}}},
    403: {"description": "bad signature, stale timestamp or reused nonce"}})
async def verify_url(
    service: WeChatDep,
    signed: Signed,
    echostr: Annotated[str, Query(max_length=256, examples=["5936263937124810571"])],
) -> PlainTextResponse:
    """WeChat's server-URL verification: with a valid signature (sha1 of the sorted token,
    timestamp and nonce) and a fresh timestamp, answers with `echostr` as plain text; otherwise 403."""
    await _admit_nonce(service, signed.nonce, signed.at, echostr)
    return PlainTextResponse(echostr)


@router.post("", response_class=Response, responses={
    200: {"content": {"application/xml": {"example": REPLY_EXAMPLE}, "text/plain": {"example": "success"}}},
    400: {"description": "malformed or unsafe XML (DTDs and entities are refused)"},
    403: {"description": "bad signature or msg_signature, stale timestamp or reused nonce"},
    413: {"description": "body larger than 64 KiB"}})
async def receive(
    request: Request,
    service: WeChatDep,
    signed: Signed,
    openid: Annotated[str | None, Query(examples=["oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"])] = None,
    encrypt_type: Annotated[Literal["aes", "raw"] | None, Query(description="`aes` in safe mode")] = None,
    msg_signature: Annotated[str | None, Query(description="safe mode: signature over the cipher text")] = None,
) -> Response:
    """A message or event WeChat pushes to the account's server URL, as XML in the body
    (plain mode, or safe mode with `encrypt_type=aes` and an `<Encrypt>` envelope). Text (and
    recognised voice) is routed like the web channel with the OpenID as customer id. The answer
    comes back as a passive text reply (encrypted in safe mode) when ready within the budget
    (`CS_WECHAT_PASSIVE_REPLY_BUDGET_S`, under WeChat's 5 s), otherwise `success` at once and
    the answer follows through the customer-service message API. WeChat's retries of one MsgId
    make one bot turn. Subscribing gets a welcome; images and other media a request for text.
    Example body (plain mode):

    ```xml
    <xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>
    <FromUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></FromUserName>
    <CreateTime>1732418400</CreateTime><MsgType><![CDATA[text]]></MsgType>
    <Content><![CDATA[宽带老是掉线怎么办]]></Content><MsgId>24612345678901234</MsgId></xml>
    ```"""
    arrived = time.monotonic()
    body = await _read_body(request)
    encrypted = encrypt_type == "aes"
    try:
        xml = service.codec.open(body, msg_signature, signed.timestamp, signed.nonce) if encrypted else body
        message = xmlsafe.parse(xml)
    except Refused as exc:
        log.warning("wechat request refused: %s", exc)
        raise HTTPException(403, f"refused: {exc}") from None
    except (xmlsafe.BadXML, SafeModeUnavailable) as exc:
        log.warning("wechat message rejected: %s", exc)
        raise HTTPException(400, str(exc)) from None
    await _admit_nonce(service, signed.nonce, signed.at, body)
    answer = await service.channel.handle(message, arrived)
    if answer is None:
        return PlainTextResponse("success")
    # wechatpy puts the text in a CDATA section as is: split any "]]>" so that the answer
    # cannot end the section and inject XML into the reply.
    reply = create_reply(answer.replace("]]>", "]]]]><![CDATA[>"), message).render()
    if encrypted:
        reply = service.codec.seal(reply, signed.nonce, str(int(time.time())))
    return Response(reply, media_type="application/xml")


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > xmlsafe.MAX_BODY_BYTES:
        raise HTTPException(413, "body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > xmlsafe.MAX_BODY_BYTES:
            raise HTTPException(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


class DeliveryOut(BaseModel):
    id: int
    openid: str
    conversation_id: str | None
    source: Literal["bot", "agent", "system"]
    text: str
    status: Literal["pending", "sending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None


@router.get("/deliveries", response_model=list[DeliveryOut])
async def deliveries(
    agent: CurrentAgent,  # first: a caller without a key learns nothing, not even a 503
    service: WeChatDep,
    conversation_id: Annotated[str | None, Query(max_length=32)] = None,
    status: Literal["pending", "sending", "sent", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Messages sent (or being sent) through WeChat's customer-service API, newest first, with
    their delivery state: attempts, the last error, and `failed` when retries ran out."""
    rows = await run_in_threadpool(service.outbox.list, conversation_id, status, limit)
    return [DeliveryOut(**r.__dict__) for r in rows]
