"""Agent-assist feedback in a real browser against the real stack (issue 17): an agent claims a
case, inserts a suggestion, edits it and sends it, and the console's background reports land
in the database as `shown`, `inserted` and `sent_edited` with the edit distance; then the agent
corrects the category, and the correction shows on the record at once and is stored."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text as sql

from common.labels import load_labels
from db.engine import get_engine
from tests.support.browser import hand_off

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SIGNATURE = "（客服小李）"  # what the agent adds to the suggestion: 6 characters


def rows(live, query: str, **params) -> list:
    with get_engine(live.database_url).connect() as conn:
        return list(conn.execute(sql(query), params))


def stored_events(live, handoff_id: int, wanted: set[str], timeout_s: float = 10) -> list:
    """The case's suggestion events once every action in `wanted` is there (the console sends
    them in the background, a moment after the click)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = rows(live, "SELECT impression_id, item_id, rank, action, edit_distance, agent FROM suggestion_events "
                           "WHERE handoff_id = :h ORDER BY id", h=handoff_id)
        if wanted <= {r.action for r in found} or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_suggestion_events_and_a_label_correction_are_stored_from_the_console(live, new_page):
    _, conv = hand_off(live, "我家宽带从昨晚开始一直连不上网，光猫红灯在闪", prefix="fb")
    [record] = [r for r in live.agent("GET", "/api/handoffs").json() if r["conversation_id"] == conv]

    page = new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{live.url}/console")
    page.locator("#login-key").fill(live.agent_key)
    page.locator("#login button[type=submit]").click()
    page.locator(f"#queue li[data-id='{record['id']}']").click()
    page.locator("#chat .m.customer").first.wait_for()
    page.locator("[data-action=claim]").click()
    page.locator("[data-action=close]").wait_for()

    # Insert the first suggestion, edit it, send it: the send is not held up by the reports.
    page.locator("[data-suggestion='0']").click()
    suggested = page.locator("#reply").input_value()
    assert suggested.strip()
    reply = suggested.strip() + SIGNATURE
    page.locator("#reply").fill(reply)
    page.locator("#send").click()
    page.locator("#chat .m.agent", has_text=SIGNATURE).wait_for()

    events = stored_events(live, record["id"], {"shown", "inserted", "sent_edited", "ignored"})
    first = events[0].impression_id
    listed = [e for e in events if e.impression_id == first]
    shown = [e for e in listed if e.action == "shown"]
    [inserted] = [e for e in listed if e.action == "inserted"]
    [sent] = [e for e in listed if e.action == "sent_edited"]
    assert [e.rank for e in shown] == list(range(1, len(shown) + 1))
    assert (inserted.rank, inserted.item_id) == (1, shown[0].item_id)
    assert (sent.rank, sent.item_id, sent.edit_distance) == (1, shown[0].item_id, len(SIGNATURE))
    # The two never inserted before the send were ignored; everything is the agent's.
    assert sorted(e.rank for e in listed if e.action == "ignored") == [e.rank for e in shown[1:]]
    assert {e.agent for e in events} == {"agent-li"}

    # Correct the category: the record shows it at once, audited, and the correction is stored.
    old = record["classification"]["category"]["label"]
    new = next(v for v in load_labels().values("category") if v != old)
    page.locator("#correct-category").select_option(new)
    page.locator("#save-correction").click()
    note = f"更正 类别：{load_labels().name('category', old)} → {load_labels().name('category', new)}"
    page.locator("#record-log li", has_text=note).wait_for()
    page.locator("#labels tr[data-label=category]", has_text=load_labels().name("category", new)).wait_for()
    assert "已更正" in page.locator("#labels tr[data-label=category]").inner_text()
    assert rows(live, "SELECT field, old_value, new_value, agent FROM label_corrections WHERE handoff_id = :h",
                h=record["id"]) == [("category", old, new, "agent-li")]
    detail = live.agent("GET", f"/api/handoffs/{record['id']}").json()
    assert detail["classification"]["category"]["label"] == new
    assert [c["new_value"] for c in detail["corrections"]] == [new]
