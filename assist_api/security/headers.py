"""Security headers on every gateway response (pure ASGI, so streamed responses such as the
widget's server-sent events pass through untouched).

* every response: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
* the HTML pages (/demo, /console, /editor, /reports and their files under /ui/): a
  Content-Security-Policy. Scripts come only from this origin (the pages have no inline
  scripts or event-handler attributes); styles also allow inline ones, which the pages need:
  the demo page's <style> block, `style` attributes in the console/editor/reports markup, the
  <style> element the widget puts into its shadow root, and the server-rendered report fragment;
* the staff pages (console, editor, reports) refuse to be framed (`X-Frame-Options: DENY` and
  `frame-ancestors 'none'`) against click-jacking. The widget is embedded on other sites as a
  <script> (not a frame) that talks to the gateway with CORS, so /widget.js and /ui/widget.js
  get no framing or cross-origin-resource restrictions.

The OpenAPI pages (/docs, /redoc) keep FastAPI's defaults (they load Swagger UI from a CDN).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'")
STAFF_PAGES = frozenset({"/console", "/editor", "/reports",
                         "/ui/console.html", "/ui/editor.html", "/ui/reports.html"})
OPEN_PAGES = frozenset({"/demo", "/ui/demo.html"})


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    out = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
    if path in STAFF_PAGES:
        out += [(b"content-security-policy", f"{PAGE_CSP}; frame-ancestors 'none'".encode()),
                (b"x-frame-options", b"DENY")]
    elif path in OPEN_PAGES:
        out.append((b"content-security-policy", PAGE_CSP.encode()))
    return out


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = headers_for(scope.get("path", ""))
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
