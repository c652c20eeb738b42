"""The agent console by push, in a real browser against the real stack: a new case and a new
customer message show up within a second, with a count in the page title and (once switched
on) a beep; a case near its first-response deadline is highlighted; and an idle console sends
no requests at all (no polling timers: the queue and the open case arrive as server-sent events)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from db.base import utcnow
from db.engine import session_factory
from gateway.handoffs.models import Handoff
from tests.support.browser import hand_off

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TITLE = "星联客服 · 坐席工作台"
PUSH_S = 1.0  # the bar: on screen within a second of being stored

# Records what the page asks the network for, the timers it sets, its event streams and beeps.
RECORDER = """
window.__requests = []; window.__intervals = []; window.__sources = []; window.__beeps = 0;
const realFetch = window.fetch;
window.fetch = function (url, options) {
  window.__requests.push(String(url)); return realFetch.apply(this, arguments);
};
const realOpen = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url) {
  window.__requests.push(String(url)); return realOpen.apply(this, arguments);
};
const realInterval = window.setInterval;
window.setInterval = function (fn, ms) { window.__intervals.push(ms); return realInterval.apply(this, arguments); };
const RealSource = window.EventSource;
window.EventSource = function (url) { const s = new RealSource(url); window.__sources.push(s); return s; };
window.EventSource.CLOSED = RealSource.CLOSED;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function () { window.__beeps += 1; return realStart.apply(this, arguments); };
"""


def left_of(bar_s: float, since: float) -> float:
    """Milliseconds of the bar still left after `since` (a time.monotonic())."""
    return max(1.0, (bar_s - (time.monotonic() - since)) * 1000)


def streams_open(page, count: int) -> None:
    page.wait_for_function("n => window.__sources.filter(s => s.readyState === 1).length >= n", arg=count)


def test_new_cases_and_messages_arrive_within_a_second_with_alerts_and_no_polling(live, new_page):
    page = new_page(viewport={"width": 1440, "height": 1000})
    page.add_init_script(RECORDER)
    page.goto(f"{live.url}/console")
    page.locator("#login-key").fill(live.agent_key)
    page.locator("#login button[type=submit]").click()
    streams_open(page, 1)
    assert page.title() == TITLE
    assert not page.locator("#sound").is_checked()  # the beep is off until the agent turns it on

    # A new case: in the queue within a second, and counted in the title (no beep while off).
    who, conv = hand_off(live, "我家宽带从昨晚开始一直连不上网", prefix="push")
    stored = time.monotonic()
    [record] = [r for r in live.agent("GET", "/api/handoffs").json() if r["conversation_id"] == conv]
    item = page.locator(f"#queue li[data-id='{record['id']}']")
    item.wait_for(timeout=left_of(PUSH_S, stored))
    assert page.title() == f"(1) {TITLE}"
    assert page.evaluate("window.__beeps") == 0

    # The agent opens it (looking at the page clears the count) and turns the beep on.
    item.click()
    page.locator("#chat .m.customer").first.wait_for()
    assert page.title() == TITLE
    page.locator("#sound").check()
    beeps = page.evaluate("window.__beeps")
    assert beeps == 1  # turning it on plays it once
    streams_open(page, 2)

    # The customer writes again: in the open conversation within a second, counted, beeped.
    live.api.post("/api/channels/web/messages",
                  json={"customer_id": who, "text": "还要等多久？", "conversation_id": conv})
    stored = time.monotonic()
    page.locator("#chat .m.customer", has_text="还要等多久？").wait_for(timeout=left_of(PUSH_S, stored))
    assert page.title() == f"(1) {TITLE}"
    page.wait_for_function("n => window.__beeps > n", arg=beeps, timeout=1000)

    # The first-response deadline comes within two minutes (the settings' at-risk lead): the
    # case is highlighted as at risk.
    with session_factory(live.database_url).begin() as session:
        session.execute(update(Handoff).where(Handoff.id == record["id"]).values(
            first_response_due=utcnow() + timedelta(seconds=100), updated_at=utcnow()))
    stored = time.monotonic()
    page.locator(f"#queue li.at_risk[data-id='{record['id']}']").wait_for(timeout=left_of(PUSH_S, stored))
    assert "即将超时" in item.inner_text()

    # Idle: no requests at all for a few seconds, and the only timer is the countdown clock.
    # Suggestion events queued by what happened above go out within a second (FLUSH_MS in
    # ui/suggestion_events.js): let them leave first, they are reports, not polling.
    page.wait_for_timeout(1000)
    page.evaluate("window.__requests = []")
    page.wait_for_timeout(3000)
    assert page.evaluate("window.__requests") == []
    assert page.evaluate("window.__intervals") == [1000]
