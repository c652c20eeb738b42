"""The action server as a real process (actions/server.py): /metrics in the exposition format,
the gateway's request id taken from the message metadata into its JSON logs and response, and
the JSON log formatter."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from common.observability.context import CONVERSATION_ID, REQUEST_ID
from common.observability.logs import JsonFormatter
from config.settings import PROJECT_ROOT
from stack.local import free_port


def test_action_server_metrics_and_request_ids(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "CS_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
           "CS_VAR_DIR": str(tmp_path / "var"), "CS_DENSE_SEARCH": "false", "CS_LOG_FORMAT": "json"}
    log_path = tmp_path / "actions.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=PROJECT_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, log_path.read_text()
            time.sleep(0.2)
        call = {"next_action": "action_does_not_exist", "sender_id": "conv-42", "version": "3.6.21",
                "tracker": {"sender_id": "conv-42", "slots": {}, "events": [], "latest_message": {
                    "text": "hi", "intent": {"name": "greet"}, "metadata": {"request_id": "req-from-gateway"}}},
                "domain": {}}
        r = httpx.post(f"{base}/webhook", json=call, timeout=10)
        assert r.status_code == 404 and r.headers["X-Request-ID"] == "req-from-gateway"
        text = httpx.get(f"{base}/metrics", timeout=5).text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = [s for s in families["cs_actions"].samples if s.name == "cs_actions_total"]
        assert any(s.labels == {"action": "action_does_not_exist", "outcome": "error"} and s.value == 1
                   for s in samples)
        assert "cs_http_request_duration_seconds" in families
        time.sleep(0.3)
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        mine = [e for e in lines if e.get("request_id") == "req-from-gateway"]
        assert mine and all(e["conversation_id"] == "conv-42" and e["service"] == "actions" for e in mine)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_json_log_lines_carry_the_ids():
    record = logging.makeLogRecord({"name": "gateway", "levelname": "INFO", "msg": "转人工 %s", "args": ("ok",),
                                    "duration_ms": 1.5})
    r, c = REQUEST_ID.set("r-1"), CONVERSATION_ID.set("c-1")
    try:
        entry = json.loads(JsonFormatter("gateway").format(record))
    finally:
        REQUEST_ID.reset(r)
        CONVERSATION_ID.reset(c)
    assert entry["msg"] == "转人工 ok" and entry["request_id"] == "r-1" and entry["conversation_id"] == "c-1"
    assert entry["duration_ms"] == 1.5 and entry["service"] == "gateway" and entry["level"] == "info"
