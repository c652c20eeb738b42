"""Widget first paint and message round trip, in a real browser against the real stack.

Usage: python bench/widget_bench.py [--loads 10] [--conversations 10] [--out bench/results/widget.json]

Starts the real stack on loopback (stack.local: Rasa server, action server, gateway, SQLite)
and Debian's Chromium (headless, through Playwright), then:
  * first paint: loads the demo page in a fresh browser context (empty cache) `--loads` times
    and reads when the widget was first painted (a `requestAnimationFrame` after it mounted,
    in ms since navigation start) and the page's first contentful paint;
  * round trip: plays `--conversations` 10-turn conversations that stay with the bot (FAQ
    answers, a clarify, thanks) typed into the widget, and reads the widget's own timing of
    each turn: from the send to the bot's reply rendered in the page (HTTP to the gateway,
    Rasa, the action server's KB search, storage, rendering). Bars: first paint ≤ 1000 ms,
    round trip p95 ≤ 500 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from config.settings import get_settings
from stack.local import start_local_stack

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TURNS = ["你好", "宽带老是掉线怎么办", "话费余额怎么查", "出国前怎么开通国际漫游", "光猫上的红灯一直闪是什么意思",
         "流量包怎么订", "掉线", "套餐怎么改成便宜一点的", "谢谢", "再见"]
BOT_COUNT = "document.querySelector('#cs-widget-root').shadowRoot.querySelectorAll('.msg.bot').length"
# The page's Content-Security-Policy forbids eval, which Playwright's wait_for_function needs;
# page.evaluate and locator waits work without it, so the waits below use only those.


def wait_until(page, expression: str, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while not (value := page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression} still false after {timeout_s} s")
        time.sleep(0.005)
    return value


def stats(values: list[float]) -> dict:
    a = np.array(values)
    return {"n": len(values), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


def first_paint(browser, url: str, loads: int) -> dict:
    widget, fcp = [], []
    for _ in range(loads):
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{url}/demo")
        widget.append(wait_until(page, "window.CSWidget && window.CSWidget.paintedAt"))
        fcp.append(page.evaluate(
            "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime"))
        context.close()
    return {"widget_painted": stats(widget), "page_first_contentful_paint": stats(fcp)}


def round_trips(browser, url: str, conversations: int) -> dict:
    widget_ms, outside_ms = [], []
    for _ in range(conversations):
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{url}/demo")
        page.locator("#cs-input").wait_for(state="visible")
        for text in TURNS:
            before = page.evaluate(BOT_COUNT)
            page.locator("#cs-input").fill(text)
            started = time.perf_counter()
            page.locator("#cs-input").press("Enter")
            page.locator(".msg.bot").nth(before).wait_for()  # CSS locators reach into the shadow root
            outside_ms.append((time.perf_counter() - started) * 1000)
        widget_ms.extend(page.evaluate("window.CSWidget.timings"))
        context.close()
    return {"shown_in_widget": stats(widget_ms), "seen_by_the_test_driver": stats(outside_ms)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "widget.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CS_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        local = start_local_stack(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                round_trips(browser, local.gateway_url, 1)  # warm-up: first Rasa turns, jieba, caches
                paint = first_paint(browser, local.gateway_url, args.loads)
                trips = round_trips(browser, local.gateway_url, args.conversations)
                version = browser.version
                browser.close()
        finally:
            local.stop()
    result = {
        "first_paint": paint,
        "round_trip": trips,
        "bars": {"first_paint_ms": 1000, "round_trip_p95_ms": 500},
        "meets_bars": paint["widget_painted"]["max_ms"] <= 1000 and trips["shown_in_widget"]["p95_ms"] <= 500,
        "browser": f"Chromium {version} (headless)",
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "turns_per_conversation": len(TURNS),
        "kb_search": ("hybrid (lexical + dense)" if get_settings().dense_search
                      else "lexical only (CS_DENSE_SEARCH=false)"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
