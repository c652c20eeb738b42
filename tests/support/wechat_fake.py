"""A local fake of WeChat's API server on loopback (access token + customer-service message
API), recording what it receives, with failures to order; and WeChat's side of a push
(signed, optionally encrypted XML) for posting to the gateway's WeChat endpoint."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from wechatpy.crypto import WeChatCrypto

from stack.local import free_port

APP_ID = "wx0123456789abcdef"
SECRET = "fake-secret-0123456789"
TOKEN = "xinglian-test-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
ACCOUNT = "gh_0123456789ab"


@dataclass
class FakeWeChatAPI:
    """WeChat's API server as far as the channel uses it."""

    token_requests: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)  # accepted message/custom/send bodies
    attempts: list[dict] = field(default_factory=list)  # every send attempt, accepted or not
    fail_next_sends: list[tuple[int, dict]] = field(default_factory=list)  # (http status, json)
    token_lifetime_s: int = 7200
    valid_tokens: set[str] = field(default_factory=set)
    port: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        app = FastAPI()

        @app.get("/cgi-bin/token")
        def token(grant_type: str, appid: str, secret: str):
            with self.lock:
                self.token_requests.append({"appid": appid, "secret": secret})
                if appid != APP_ID or secret != SECRET:
                    return {"errcode": 40013, "errmsg": "invalid appid"}
                value = f"token-{len(self.token_requests)}-{uuid.uuid4().hex[:6]}"
                self.valid_tokens.add(value)
                return {"access_token": value, "expires_in": self.token_lifetime_s}

        @app.post("/cgi-bin/message/custom/send")
        async def send(request: Request, access_token: str = ""):
            body = await request.json()
            from fastapi.responses import JSONResponse
            with self.lock:
                self.attempts.append({"token": access_token, **body})
                if access_token not in self.valid_tokens:
                    return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
                if self.fail_next_sends:
                    status, payload = self.fail_next_sends.pop(0)
                    return JSONResponse(payload, status_code=status)
                self.sent.append(body)
            return {"errcode": 0, "errmsg": "ok"}

        self.app = app

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeWeChatAPI:
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake WeChat API did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    def expire_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def texts_to(self, openid: str) -> list[str]:
        with self.lock:
            return [m["text"]["content"] for m in self.sent if m["touser"] == openid]

    def wait_for(self, openid: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts_to(openid)
            if len(texts) >= count:
                return texts
            time.sleep(0.05)
        return self.texts_to(openid)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def text_xml(openid: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
    msg_id = msg_id if msg_id is not None else int(uuid.uuid4().int % 10**17)
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_xml(openid: str, event: str, create_time: int | None = None) -> str:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>")


def image_xml(openid: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://example.com/a.jpg]]></PicUrl>"
            f"<MediaId><![CDATA[media-1]]></MediaId><MsgId>{int(uuid.uuid4().int % 10**17)}</MsgId></xml>")


@dataclass
class WeChatPush:
    """How WeChat's servers call the account's server URL."""

    token: str = TOKEN
    crypto: WeChatCrypto | None = None

    @classmethod
    def safe_mode(cls) -> WeChatPush:
        return cls(crypto=WeChatCrypto(TOKEN, AES_KEY, APP_ID))

    def query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or uuid.uuid4().hex[:10]
        return {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}

    def request(self, xml: str, timestamp: int | None = None, nonce: str | None = None) -> tuple[dict, bytes]:
        """Query parameters and body of one push (encrypted like WeChat's in safe mode)."""
        params = self.query(timestamp, nonce)
        if self.crypto is None:
            return params, xml.encode()
        sealed = self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
        import xmltodict
        envelope = xmltodict.parse(sealed)["xml"]
        body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
        params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        return params, body.encode()

    def open_reply(self, response_text: str, params: dict) -> str:
        """The plaintext of a passive reply (decrypted in safe mode)."""
        if self.crypto is None or response_text == "success":
            return response_text
        import xmltodict
        envelope = xmltodict.parse(response_text)["xml"]
        return self.crypto.decrypt_message(response_text, envelope["MsgSignature"],
                                           envelope["TimeStamp"], envelope["Nonce"])
