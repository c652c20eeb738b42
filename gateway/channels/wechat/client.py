"""WeChat's customer-service message API through wechatpy's WeChatClient, pointed at a
configurable base URL (the real https://api.weixin.qq.com, or a local fake in tests).

wechatpy caches the access token with its expiry, fetches a new one a minute before it runs
out, and refetches and retries once when WeChat says the token is invalid or expired."""

from __future__ import annotations

import threading
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

# Errors that no retry will fix: the customer has not written for 48 h (45015), invalid or
# unknown OpenID (40003), message too long (45002), quota exhausted for this user (45047),
# the API is not authorised for this account (48001).
PERMANENT_ERRCODES = {40003, 45002, 45015, 45047, 48001}


class _TimeoutSession(requests.Session):
    """wechatpy's token request passes no timeout; every request here has one."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]  # str only; requests also takes bytes
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_s
        return super().request(method, url, **kwargs)


class WeChatAPI(WeChatClient):  # type: ignore[misc]  # wechatpy ships no type hints: its classes are Any
    def __init__(self, app_id: str, secret: str, base_url: str, timeout_s: float,
                 redis_url: str | None = None) -> None:
        session = None
        if redis_url:
            # Replicas share one access token: WeChat invalidates a token soon after another
            # is fetched, so per-process tokens would knock each other out.
            import redis
            from wechatpy.session.redisstorage import RedisStorage

            session = RedisStorage(redis.Redis.from_url(redis_url), prefix="cs:wechat")
        super().__init__(app_id, secret, timeout=timeout_s, session=session)
        self._base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self._base_url}/cgi-bin/"
        self._http = _TimeoutSession(timeout_s)
        self._lock = threading.Lock()

    def fetch_access_token(self) -> dict[str, Any]:
        token: dict[str, Any] = self._fetch_access_token(
            url=f"{self._base_url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )
        return token

    def send_text(self, openid: str, text: str) -> None:
        """Send one text to the customer; raises DeliveryError (permanent or not)."""
        with self._lock:  # one token refresh at a time
            try:
                self.message.send_text(openid, text)
            except WeChatClientException as exc:
                code = exc.errcode
                raise DeliveryError(f"errcode {code}: {exc.errmsg}" if code is not None
                                    else f"HTTP error: {exc.response.status_code if exc.response is not None else '?'}",
                                    permanent=code in PERMANENT_ERRCODES) from None
            except requests.RequestException as exc:
                raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from None
            except (ValueError, KeyError) as exc:  # a token response without access_token, unreadable JSON
                raise DeliveryError(f"bad response: {exc}", permanent=False) from None


class DeliveryError(Exception):
    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
