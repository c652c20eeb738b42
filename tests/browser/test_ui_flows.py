"""The product in a real browser: a customer asks in the widget and gets the KB answer, asks for
a human; an agent in the console sees the escalation record and sends a suggested reply; the
customer sees it live; an editor publishes a new entry and the widget answers with it.
Screenshots of the three UIs go to docs/screenshots/ with `pytest --update-screenshots`."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from assist_api.reports.period import local_today
from config.settings import Settings
from tests.support.browser import wait_for_bot_index

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

FAQ = "宽带老是掉线怎么办"
NEW_ENTRY = {
    "question": "星联卡在南极科考站能用吗？",
    "similar": ["去南极科考站手机有信号吗", "南极科考站能不能打电话", "在南极用星联卡"],
    "answer": "南极科考站暂未开通星联漫游服务，站内可使用科考站的卫星电话；返回后星联卡可正常使用。",
}


# ---- the widget, as a customer uses it -----------------------------------------------------------

def open_widget(page, url: str):
    page.goto(f"{url}/demo")
    page.locator("#cs-input").wait_for(state="visible")
    return page


def ask(page, text: str):
    """Type and press Enter like a customer; returns the first of the bot's new messages."""
    before = page.locator(".msg.bot").count()
    page.locator("#cs-input").fill(text)
    page.locator("#cs-input").press("Enter")
    page.wait_for_function("n => document.querySelector('#cs-widget-root').shadowRoot"
                           ".querySelectorAll('.msg.bot').length > n", arg=before)
    return page.locator(".msg.bot").nth(before)


def test_customer_gets_the_kb_answer_asks_for_a_human_and_sees_the_agents_suggested_reply_live(
        live, new_page, screenshots):
    expected = live.api.post("/api/kb/search", json={"query": FAQ}).json()
    assert expected["decision"] == "answer"

    widget = open_widget(new_page(viewport={"width": 1280, "height": 800}), live.url)
    assert widget.locator(".msg.bot .bubble").first.inner_text().startswith("您好")
    answer = ask(widget, FAQ)
    assert answer.locator(".bubble").inner_text() == expected["answer"]
    feedback = widget.locator(".msg.bot").last  # the 有帮助 / 没帮助 prompt after the answer
    assert [b.inner_text() for b in feedback.locator("button").all()] == ["有帮助", "没帮助"]

    handed = ask(widget, "转人工")
    assert "工单号" in handed.inner_text()
    widget.wait_for_function("document.querySelector('#cs-widget-root').shadowRoot"
                             ".querySelector('.status').textContent.includes('人工客服')")
    # While queued, the header shows where the customer stands, live from the stream.
    widget.locator(".status", has_text="预计等待约").wait_for()  # a locator: the CSP forbids eval
    assert re.search(r"排队等待人工客服：(您是下一位|您前面还有 \d+ 位客户)，预计等待约 \d+ 分钟",
                     widget.locator(".status").inner_text())
    conversation = widget.evaluate("window.CSWidget.conversationId")
    [record] = [r for r in live.agent("GET", "/api/handoffs").json() if r["conversation_id"] == conversation]
    widget.screenshot(path=str(screenshots / "widget.png"))

    # The agent signs in, finds the case in the queue and reads the record at a glance.
    console = new_page(viewport={"width": 1440, "height": 1400})
    console.goto(f"{live.url}/console")
    console.locator("#login-key").fill(live.agent_key)
    console.locator("#login button[type=submit]").click()
    item = console.locator(f"#queue li[data-id='{record['id']}']")
    item.wait_for()
    assert re.search(r"首次响应剩余 \d\d:\d\d", item.inner_text())
    item.click()
    console.locator("#background").wait_for()
    assert FAQ in console.locator("#background").inner_text()
    assert "置信度" in console.locator("#detail table").inner_text()
    console.locator("#chat .m.customer").first.wait_for()
    assert FAQ in console.locator("#chat").inner_text()

    console.locator("[data-action=claim]").click()
    console.locator("[data-action=close]").wait_for()
    console.locator("[data-suggestion='0']").click()
    suggested = console.locator("#reply").input_value()
    assert suggested.strip()
    reply = suggested + "（客服小李）"
    console.locator("#reply").fill(reply)  # the inserted suggestion is editable
    sent_at = time.perf_counter()
    console.locator("#send").click()

    # Pushed to the customer while their page stays open.
    widget.locator(".msg.agent .bubble").last.wait_for()
    delivered_s = time.perf_counter() - sent_at
    assert widget.locator(".msg.agent .bubble").last.inner_text() == reply
    assert delivered_s < 3, delivered_s
    console.locator("#chat .m.agent").last.wait_for()
    console.locator("[data-filter=mine]").click()
    console.locator(f"#queue li[data-id='{record['id']}']").wait_for()
    console.evaluate("document.getElementById('detail').scrollTop = 0")
    console.screenshot(path=str(screenshots / "console.png"))

    # The agent closes the case: the widget asks for a rating, once.
    console.locator("[data-action=close]").click()
    widget.locator(".stars button").first.wait_for()
    widget.locator(".stars button", has_text="5 分").click()
    widget.locator(".msg.system", has_text="感谢您的评价").wait_for()

    # A reload shows the same conversation, nothing lost, no duplicates.
    texts = widget.locator(".msg .bubble").all_inner_texts()
    widget.reload()
    widget.locator(".msg.agent").last.wait_for()
    after = widget.locator(".msg .bubble").all_inner_texts()
    for text in (FAQ, expected["answer"], reply):
        assert after.count(text) == 1, text
    assert texts[0].startswith("您好")


def test_an_editor_publishes_a_new_entry_and_the_widget_answers_with_it(live, new_page, screenshots):
    before = live.api.post("/api/kb/search", json={"query": "南极科考站能不能打电话"}).json()
    assert all(r["question"] != NEW_ENTRY["question"] for r in before["results"])

    editor = new_page(viewport={"width": 1440, "height": 1000})
    editor.goto(f"{live.url}/editor")
    editor.locator("#login-key").fill(live.editor_key)
    editor.locator("#login button[type=submit]").click()
    editor.locator("#entries li").first.wait_for()
    editor.locator("#new-entry").click()
    editor.locator("#f-question").fill(NEW_ENTRY["question"])
    editor.locator("#f-similar").fill("\n".join(NEW_ENTRY["similar"]))
    editor.locator("#f-answer").fill(NEW_ENTRY["answer"])
    editor.locator("#f-category").select_option("roaming")
    editor.locator("#save").click()
    editor.locator("#entry-status .badge", has_text="草稿").wait_for()
    entry_id = editor.locator("#f-id").input_value()
    assert entry_id.startswith("roaming-")

    # Test the draft before publishing: it ranks first, marked as the current entry.
    editor.locator("#test-q").fill("南极科考站能不能打电话")
    editor.locator("#test-form button[type=submit]").click()
    editor.locator("#test-result tr.is-draft").wait_for()
    assert entry_id in editor.locator("#test-result tbody tr").first.inner_text()
    assert editor.locator("#test-decision").inner_text()

    editor.locator("[data-to=review]").click()
    editor.locator("#entry-status .badge", has_text="待审核").wait_for()
    editor.locator("[data-to=published]").click()
    editor.locator("#entry-status .badge", has_text="已发布").wait_for()
    editor.locator("#history .version").nth(2).wait_for()
    assert "待审核 → 已发布" in editor.locator("#history .version").first.inner_text()
    editor.screenshot(path=str(screenshots / "editor.png"), full_page=True)

    wait_for_bot_index(live)  # the bot's index follows the store within its check interval
    widget = open_widget(new_page(viewport={"width": 1280, "height": 800}), live.url)
    answer = ask(widget, "南极科考站能不能打电话")
    assert answer.locator(".bubble").inner_text() == NEW_ENTRY["answer"]


def test_unanswered_questions_turn_into_a_draft_in_one_click(live, new_page):
    widget = open_widget(new_page(), live.url)
    ask(widget, "你们卖不卖二手自行车")
    editor = new_page(viewport={"width": 1440, "height": 1000})
    editor.goto(f"{live.url}/editor")
    editor.locator("#login-key").fill(live.editor_key)
    editor.locator("#login button[type=submit]").click()
    editor.locator("#entries li").first.wait_for()
    editor.locator("#tab-unanswered").click()
    button = editor.locator("[data-create-from='你们卖不卖二手自行车']")
    button.wait_for()
    button.click()
    assert editor.locator("#f-question").input_value() == "你们卖不卖二手自行车"
    assert editor.locator("#entry-title").inner_text() == "新建条目"


def test_the_reports_page_groups_unanswered_questions_of_the_chosen_dates(live, new_page):
    # Four customers ask something the KB does not cover (the bot has no answer for it).
    bikes = ("你们卖不卖二手自行车", "有没有二手自行车卖", "哪里能买到二手自行车", "二手自行车多少钱一辆")
    for i, text in enumerate(bikes):
        response = live.api.post("/api/channels/web/messages",
                                 json={"customer_id": f"web-bike-{i}", "text": text})
        assert response.status_code == 200, response.text
    # The supervisor's laptop runs on UTC and its clock reads 20:00 of the day before the
    # service's today: Shanghai is already on the next day. The page must still show today.
    shanghai_today = local_today(Settings().business_timezone)  # the live stack's defaults
    page = new_page(viewport={"width": 1440, "height": 1000}, timezone_id="UTC")
    eve = shanghai_today - timedelta(days=1)
    page.clock.set_fixed_time(datetime(eve.year, eve.month, eve.day, 20, 0, tzinfo=UTC))
    page.goto(f"{live.url}/reports")
    assert page.evaluate("new Date().toISOString().slice(0, 10)") == (shanghai_today - timedelta(days=1)).isoformat()
    page.locator("#login-key").fill(live.supervisor_key)
    page.locator("#login button[type=submit]").click()
    page.locator("#report").get_by_text("会话").first.wait_for()
    assert page.locator("#f-end").input_value() == shanghai_today.isoformat()
    assert "Asia/Shanghai" in page.locator("#f-tz").inner_text()
    page.locator("#load-clusters").click()
    page.locator("#clusters li").first.wait_for()
    assert "自行车" in page.locator("#clusters").inner_text()
    assert page.locator("#f-start").input_value() in page.locator("#clusters-status").inner_text()
    # A month with no conversations: no topics, rather than today's.
    page.locator("#f-start").fill("2026-01-01")
    page.locator("#f-end").fill("2026-01-31")
    page.locator("#load-clusters").click()
    page.get_by_text("暂无未解答的问题（2026-01-01 至 2026-01-31）").wait_for()
    assert page.locator("#clusters li").count() == 0


def test_phone_viewport_keyboard_only_and_resume_after_the_connection_drops(live, new_page):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    open_widget(page, live.url)
    box = page.locator("#cs-panel").bounding_box()
    assert box["width"] == 390 and box["height"] == 844  # full screen on a phone
    assert page.locator("#cs-panel").get_attribute("role") == "dialog"
    assert page.locator("#cs-input").get_attribute("aria-label")
    assert page.locator(".log").get_attribute("aria-live") == "polite"

    # Keyboard only: the input has focus on open, Enter sends, Escape closes, Enter reopens.
    page.keyboard.type("转人工")
    page.keyboard.press("Enter")
    page.locator(".msg.bot", has_text="工单号").wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#cs-panel").is_hidden()
    assert page.evaluate("document.querySelector('#cs-widget-root').shadowRoot.activeElement.className") == "launcher"
    page.keyboard.press("Enter")
    assert page.locator("#cs-panel").is_visible()

    conversation = page.evaluate("window.CSWidget.conversationId")
    [record] = [r for r in live.agent("GET", "/api/handoffs").json() if r["conversation_id"] == conversation]
    assert live.agent("POST", f"/api/handoffs/{record['id']}/claim").status_code == 200

    # The connection drops; the agent writes meanwhile; nothing is lost when it comes back.
    page.context.set_offline(True)
    page.wait_for_timeout(1500)
    for text in ("您好，我是客服小李。", "正在为您查询，请稍候。"):
        sent = live.agent("POST", f"/api/conversations/{conversation}/agent-messages", json={"text": text})
        assert sent.status_code == 200
    page.context.set_offline(False)
    page.locator(".msg.agent", has_text="正在为您查询").wait_for(timeout=20_000)
    assert page.locator(".msg.agent .bubble").all_inner_texts() == ["您好，我是客服小李。", "正在为您查询，请稍候。"]


def test_message_text_is_never_parsed_as_html(live, new_page):
    page = open_widget(new_page(), live.url)
    ask(page, "<img src=x onerror=\"window.__pwned=1\">转人工")
    bubble = page.locator(".msg.customer .bubble").last
    assert bubble.inner_text().startswith("<img")
    assert page.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_widget_first_paint_and_round_trip_within_the_bars(live, new_page):
    """Bars: first paint of the widget on the demo page ≤ 1 s; reply shown ≤ 500 ms p95."""
    page = new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live.url}/demo")
    page.wait_for_function("window.CSWidget && window.CSWidget.paintedAt")
    painted_ms = page.evaluate("window.CSWidget.paintedAt")
    assert painted_ms <= 1000, painted_ms
    for q in ["怎么查话费", "流量用超了怎么办", "宽带怎么报修", "国际漫游怎么开通", "手机丢了怎么挂失",
              "套餐怎么变更", "怎么办理携号转网", "光猫红灯闪", "话费怎么充值", "骚扰电话怎么拦截"]:
        ask(page, q)
    timings = sorted(page.evaluate("window.CSWidget.timings"))
    p95 = timings[int(round(0.95 * (len(timings) - 1)))]
    assert p95 <= 500, timings
