"""Label names on the staff pages come from the API (GET /api/labels, served from
common/labels.yaml), never from the pages' own copies: the editor's and the reports page's
choices equal what the API serves, and a label renamed in what the API serves shows up on the
console's queue and the reports page. (That a rename in common/labels.yaml reaches the API and
the HTML report: tests/integration/test_labels.py.)"""

from __future__ import annotations

import uuid

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def sign_in(page, url: str, key: str) -> None:
    page.goto(url)
    page.locator("#login-key").fill(key)
    page.locator("#login button[type=submit]").click()
    page.locator("#app").wait_for()


def options(page, select: str) -> dict[str, str]:
    """value -> text of a <select>'s choices, without its empty "all" choice."""
    pairs = page.locator(f"{select} option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    return {value: text for value, text in pairs if value}


def serve_renamed(page, rename) -> None:
    """The page gets /api/labels as the gateway serves it, changed by `rename(labels)`."""
    def handle(route):
        labels = route.fetch().json()
        rename(labels)
        route.fulfill(json=labels, headers={"cache-control": "no-cache"})
    page.route("**/api/labels", handle)


def test_the_editor_and_the_reports_page_offer_the_labels_the_api_serves(live, new_page):
    labels = live.api.get("/api/labels").json()
    editor = new_page()
    sign_in(editor, f"{live.url}/editor", live.editor_key)
    editor.locator("#entries li").first.wait_for()
    assert options(editor, "#filter-category") == labels["category"]
    assert options(editor, "#f-category") == labels["category"]
    assert options(editor, "#filter-status") == labels["kb_status"]
    assert options(editor, "#unanswered-kind") == labels["unanswered_kind"]
    assert list(options(editor, "#f-category")) == list(labels["category"])  # in the source's order

    reports = new_page()
    sign_in(reports, f"{live.url}/reports", live.supervisor_key)
    assert options(reports, "#f-category") == labels["category"]
    assert options(reports, "#f-channel") == labels["channel"]
    assert options(reports, "#f-granularity") == labels["granularity"]


def test_a_renamed_label_shows_on_the_console_and_the_reports_page(live, new_page):
    served = live.api.get("/api/labels").json()
    who = f"labels-{uuid.uuid4().hex[:8]}"
    reply = live.api.post("/api/channels/web/messages", json={"customer_id": who, "text": "转人工"}).json()
    assert reply["state"] == "queued"
    conversation = reply["conversation_id"]
    [record] = [r for r in live.agent("GET", "/api/handoffs").json() if r["conversation_id"] == conversation]
    assert record["reason"] == "user_request"

    def rename(labels):
        labels["reason"]["user_request"] = "客户点名要人工（改名）"
        labels["category"] = {value: f"{name}（改名）" for value, name in labels["category"].items()}

    console = new_page(viewport={"width": 1440, "height": 1000})
    serve_renamed(console, rename)
    sign_in(console, f"{live.url}/console", live.agent_key)
    item = console.locator(f"#queue li[data-id='{record['id']}']")
    item.wait_for()
    category = served["category"][record["classification"]["category"]["label"]]
    assert f"客户点名要人工（改名） · {category}（改名）" in item.inner_text()
    item.click()
    console.locator("#detail", has_text="转人工原因：客户点名要人工（改名）").wait_for()

    reports = new_page()
    serve_renamed(reports, rename)
    sign_in(reports, f"{live.url}/reports", live.supervisor_key)
    assert options(reports, "#f-category") == {value: f"{name}（改名）" for value, name in served["category"].items()}
