"""Agent-assist feedback (issue 17): suggestion events and label corrections, through the
service on SQLite and a real PostgreSQL, and over HTTP: the suggest response names its
impression and items, the console's event batches are checked and stored, supervisors export
them, and a correction changes the record, its deadlines and its audit trail in one go."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from assist_api.assist.feedback import LabelCorrection, SuggestionEvent
from assist_api.assist.feedback_service import EventIn, FeedbackService, InvalidFeedback, correction_note
from assist_api.assist.templates import TemplateStore
from assist_api.auth.keys import KeyStore, Role
from assist_api.reports.period import local_today
from config.settings import Settings
from db.base import utcnow
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import Handoff, HandoffEvent, HandoffReason
from gateway.handoffs.service import HandoffConflict, HandoffService
from tests.support.gateway import customer, open_gateway

# ---- the service, on SQLite and PostgreSQL ---------------------------------------------------

class World:
    def __init__(self, url: str, tmp_path) -> None:
        upgrade(url)
        self.sessions = session_factory(url)
        self.settings = Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
        self.conversations = ConversationService(self.sessions)
        self.handoffs = HandoffService(self.sessions, self.settings, self.conversations)
        TemplateStore(self.sessions).seed(self.settings.assist_templates_file)
        self.feedback = FeedbackService(self.sessions, self.handoffs.levels)
        self.templates = [t.id for t in TemplateStore(self.sessions).list()]

    def case(self, text: str = "我的宽带连不上", owner: str | None = "alice") -> Handoff:
        conv = self.conversations.resolve("web", customer(), None)
        self.conversations.add_message(conv.id, "customer", text)
        handoff = self.handoffs.create(conv.id, HandoffReason.user_request).handoff
        if owner:
            self.handoffs.transition(handoff.id, "claim", owner)
        return self.handoffs.get(handoff.id)

    def count(self, model, *where) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def world(db_url, tmp_path) -> World:
    return World(db_url, tmp_path)


def event(item: str, action: str, rank: int = 1, **extra) -> EventIn:
    return EventIn(impression_id="imp1", source="template", item_id=item, rank=rank, action=action,
                   stage="opening", **extra)


def test_a_batch_is_stored_with_the_edit_distance_computed_by_the_server(world):
    h = world.case()
    first, second = world.templates[:2]
    stored = world.feedback.record_events(h.id, "alice", [
        event(first, "shown"), event(second, "shown", rank=2), event(first, "inserted"),
        # The console's distance is wrong on purpose: the texts decide.
        event(first, "sent_edited", edit_distance=99, suggestion_text="您好，请问有什么可以帮您？",
              sent_text="您好王女士，请问有什么可以帮您？"),
        event(second, "ignored", rank=2),
    ])
    assert stored == 5
    rows = world.feedback.events(h.id)
    assert [(r.item_id, r.action, r.rank) for r in rows] == [
        (first, "shown", 1), (second, "shown", 2), (first, "inserted", 1), (first, "sent_edited", 1),
        (second, "ignored", 2)]
    assert {r.conversation_id for r in rows} == {h.conversation_id}
    assert {r.agent for r in rows} == {"alice"}
    assert rows[3].edit_distance == 3  # 王女士
    assert [r.edit_distance for r in rows if r.action != "sent_edited"] == [None] * 4
    # The texts also decide unchanged or edited, whatever the console called it.
    text = "您好，请问有什么可以帮您？"
    world.feedback.record_events(h.id, "alice", [
        event(first, "sent_edited", suggestion_text=text, sent_text=f" {text}"),
        event(first, "sent_unchanged", suggestion_text=text, sent_text=text + "？")])
    assert [(r.action, r.edit_distance) for r in world.feedback.events(h.id)[5:]] == [
        ("sent_unchanged", 0), ("sent_edited", 1)]


def test_events_are_refused_for_unknown_items_actions_and_other_agents_cases(world):
    h = world.case()
    template = world.templates[0]
    with pytest.raises(InvalidFeedback, match="unknown suggestion items"):
        world.feedback.record_events(h.id, "alice", [event(template, "shown"), event("no-such-template", "shown")])
    with pytest.raises(InvalidFeedback, match="unknown suggestion items"):
        world.feedback.record_events(h.id, "alice", [EventIn("imp", "kb", "no-such-entry", 1, "shown")])
    with pytest.raises(InvalidFeedback, match="action"):
        world.feedback.record_events(h.id, "alice", [event(template, "clicked")])
    with pytest.raises(InvalidFeedback, match="edit_distance"):
        world.feedback.record_events(h.id, "alice", [event(template, "sent_edited")])
    with pytest.raises(InvalidFeedback, match="distance of 0"):
        world.feedback.record_events(h.id, "alice", [event(template, "sent_unchanged", edit_distance=2)])
    with pytest.raises(HandoffConflict):
        world.feedback.record_events(h.id, "bob", [event(template, "shown")])
    assert world.count(SuggestionEvent) == 0  # a refused batch stores nothing
    # A queued case nobody owns yet: the agent reading it before claiming may report.
    queued = world.case(owner=None)
    assert world.feedback.record_events(queued.id, "bob", [event(template, "shown")]) == 1


def test_export_streams_csv_and_json_lines_within_the_range(world):
    h = world.case()
    template = world.templates[0]
    world.feedback.record_events(h.id, "alice", [event(template, "shown"), event(template, "sent_unchanged")])
    lines = list(world.feedback.export(None, None, "jsonl"))
    rows = [json.loads(line) for line in lines]
    assert [r["action"] for r in rows] == ["shown", "sent_unchanged"]
    assert rows[1]["edit_distance"] == 0 and rows[0]["edit_distance"] is None
    table = list(csv.DictReader(io.StringIO("".join(world.feedback.export(None, None, "csv")).lstrip("\ufeff"))))
    assert [r["action"] for r in table] == ["shown", "sent_unchanged"]
    assert table[0]["handoff_id"] == str(h.id) and table[0]["edit_distance"] == ""
    now = utcnow()
    assert list(world.feedback.export(now + timedelta(minutes=1), None, "jsonl")) == []
    assert len(list(world.feedback.export(now - timedelta(minutes=1), now + timedelta(minutes=1), "jsonl"))) == 2


def test_a_category_correction_changes_the_record_and_is_audited_in_one_go(world):
    h = world.case()
    old = h.classification["category"]["label"]
    new = "network" if old != "network" else "billing"
    correction = world.feedback.correct(h.id, "category", new, "alice")
    assert (correction.field, correction.old_value, correction.new_value, correction.agent) == (
        "category", old, new, "alice")
    record = world.handoffs.record(h.id)
    assert record["classification"]["category"] == {"label": new, "confidence": 1.0, "corrected_by": "alice"}
    assert record["events"][-1]["note"] == correction_note("category", old, new)
    assert record["events"][-1]["note"].startswith("更正 类别：")
    assert world.count(LabelCorrection, LabelCorrection.handoff_id == h.id) == 1
    assert world.feedback.corrections(h.id)[0]["new_value"] == new
    with pytest.raises(InvalidFeedback, match="already"):
        world.feedback.correct(h.id, "category", new, "alice")


def test_corrections_are_checked_against_the_label_set_and_the_owner(world):
    h = world.case()
    for field, value in (("category", "weather"), ("priority", "asap"), ("emotion", True),
                         ("is_complaint", "maybe"), ("route", "complaints")):
        with pytest.raises(InvalidFeedback):
            world.feedback.correct(h.id, field, value, "alice")
    with pytest.raises(HandoffConflict):
        world.feedback.correct(h.id, "emotion", "angry", "bob")
    world.feedback.correct(h.id, "emotion", "angry", "zhao", any_case=True)  # a supervisor
    world.feedback.correct(h.id, "is_complaint", True, "alice")
    labels = world.handoffs.get(h.id).classification
    assert labels["emotion"]["label"] == "angry" and labels["is_complaint"] is True
    events = world.count(HandoffEvent, HandoffEvent.handoff_id == h.id, HandoffEvent.note.like("更正%"))
    assert events == world.count(LabelCorrection, LabelCorrection.handoff_id == h.id) == 2


def test_re_prioritising_to_urgent_tightens_the_first_response_deadline(world):
    h = world.case(text="请问怎么查话费")
    if h.priority == "urgent":
        world.feedback.correct(h.id, "priority", "normal", "alice")
        h = world.handoffs.get(h.id)
    before = h.first_response_due
    world.feedback.correct(h.id, "priority", "urgent", "alice")
    after = world.handoffs.get(h.id)
    assert after.priority == "urgent"
    assert after.first_response_due == world.handoffs.levels.first_response_due("urgent", h.created_at)
    assert after.first_response_due < before
    # Back to normal: a deadline not yet passed follows the label again.
    world.feedback.correct(h.id, "priority", "normal", "alice")
    assert world.handoffs.get(h.id).first_response_due == world.handoffs.levels.first_response_due(
        "normal", h.created_at)


def test_a_missed_deadline_stays_missed_and_a_late_urgent_correction_starts_its_window_now(world):
    h = world.case(text="请问怎么查话费")
    if h.priority != "normal":
        world.feedback.correct(h.id, "priority", "normal", "alice")
    # The case came in two hours ago: urgent's window from then is long past.
    created = utcnow() - timedelta(hours=2)
    with world.sessions.begin() as session:
        session.execute(update(Handoff).where(Handoff.id == h.id).values(
            created_at=created, first_response_due=utcnow() + timedelta(hours=1)))
    world.feedback.correct(h.id, "priority", "urgent", "alice")
    due = world.handoffs.get(h.id).first_response_due
    urgent_window = world.handoffs.levels.first_response_due("urgent", created) - created
    assert utcnow() < due <= utcnow() + urgent_window
    # Already missed: a correction does not move it (the breach stays on the record).
    missed = utcnow() - timedelta(minutes=5)
    with world.sessions.begin() as session:
        session.execute(update(Handoff).where(Handoff.id == h.id).values(first_response_due=missed))
    world.feedback.correct(h.id, "priority", "normal", "alice")
    assert world.handoffs.get(h.id).first_response_due == missed


# ---- over HTTP ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    var = tmp_path_factory.mktemp("feedback")
    client, gateway = open_gateway(f"sqlite:///{var / 'f.sqlite3'}", var / "var")
    gateway.keys["zhao"] = KeyStore(session_factory(gateway.url)).create("zhao", Role.supervisor)
    yield gateway
    client.__exit__(None, None, None)


def claimed(gw) -> tuple[str, dict]:
    conv, record = gw.handed_off(customer(), "我的宽带从昨天开始一直断网，光猫红灯在闪")
    assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/claim").status_code == 200
    return conv, record


def test_the_suggest_response_names_its_impression_and_each_items_id_and_rank(gw):
    conv, _ = claimed(gw)
    body = gw.as_("alice", "POST", "/api/assist/suggest", json={"conversation_id": conv, "k": 4}).json()
    assert len(body["impression_id"]) == 32
    assert [s["rank"] for s in body["suggestions"]] == [1, 2, 3, 4]
    for s in body["suggestions"]:
        assert s["item_id"] == (s["template_id"] if s["source"] == "template" else s["kb_id"])
    again = gw.as_("alice", "POST", "/api/assist/suggest", json={"conversation_id": conv, "k": 4}).json()
    assert again["impression_id"] != body["impression_id"]


def test_the_console_reports_a_batch_and_a_supervisor_exports_it(gw):
    conv, record = claimed(gw)
    shown = gw.as_("alice", "POST", "/api/assist/suggest", json={"conversation_id": conv, "k": 2}).json()
    top = shown["suggestions"][0]
    base = {"impression_id": shown["impression_id"], "source": top["source"], "item_id": top["item_id"],
            "stage": top.get("stage"), "rank": 1}
    batch = {"handoff_id": record["id"], "events": [
        {**base, "action": "shown"}, {**base, "action": "inserted"},
        {**base, "action": "sent_edited", "suggestion_text": top["text"], "sent_text": top["text"] + "（小李）"}]}
    response = gw.as_("alice", "POST", "/api/assist/events", json=batch)
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 3}
    [(distance,)] = gw.rows("SELECT edit_distance FROM suggestion_events WHERE handoff_id = :h AND action = "
                            "'sent_edited'", h=record["id"])
    assert distance == 4

    assert gw.as_("bob", "POST", "/api/assist/events", json=batch).status_code == 409  # alice's case
    bad = {"handoff_id": record["id"], "events": [{**base, "action": "clicked"}]}
    assert gw.as_("alice", "POST", "/api/assist/events", json=bad).status_code == 422
    unknown = {"handoff_id": record["id"], "events": [{**base, "item_id": "nope", "action": "shown"}]}
    assert gw.as_("alice", "POST", "/api/assist/events", json=unknown).status_code == 422
    assert gw.as_("alice", "POST", "/api/assist/events", json={**batch, "handoff_id": 99999}).status_code == 404

    export = gw.as_("zhao", "GET", "/api/assist/events/export", params={"format": "jsonl"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    mine = [json.loads(line) for line in export.text.splitlines() if json.loads(line)["handoff_id"] == record["id"]]
    assert [r["action"] for r in mine] == ["shown", "inserted", "sent_edited"]
    today = local_today(gw.client.app.state.settings.business_timezone)
    as_csv = gw.as_("zhao", "GET", "/api/assist/events/export", params={"format": "csv", "start": str(today)})
    assert as_csv.status_code == 200 and as_csv.text.startswith("\ufeffid,created_at,handoff_id")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert sum(1 for r in csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff")))
               if r["handoff_id"] == str(record["id"])) == 3
    yesterday = {"format": "csv", "end": str(today - timedelta(days=1))}
    assert str(record["id"]) not in [r["handoff_id"] for r in csv.DictReader(io.StringIO(
        gw.as_("zhao", "GET", "/api/assist/events/export", params=yesterday).text.lstrip("\ufeff")))]
    bad_range = {"start": "2026-12-07", "end": "2026-12-01"}
    assert gw.as_("zhao", "GET", "/api/assist/events/export", params=bad_range).status_code == 422
    assert gw.as_("alice", "GET", "/api/assist/events/export").status_code == 403


def test_a_correction_shows_on_the_record_at_once_and_in_its_detail(gw):
    _, record = claimed(gw)
    old = record["classification"]["category"]["label"]
    new = "billing" if old != "billing" else "network"
    response = gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/corrections",
                      json={"field": "category", "value": new})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["classification"]["category"]["label"] == new
    assert body["events"][-1]["note"] == correction_note("category", old, new)
    assert [(c["field"], c["old_value"], c["new_value"], c["agent"]) for c in body["corrections"]] == [
        ("category", old, new, "alice")]
    detail = gw.as_("alice", "GET", f"/api/handoffs/{record['id']}").json()
    assert detail["corrections"] == body["corrections"]

    path = f"/api/handoffs/{record['id']}/corrections"
    assert gw.as_("bob", "POST", path, json={"field": "priority", "value": "urgent"}).status_code == 409
    assert gw.as_("zhao", "POST", path, json={"field": "priority", "value": "urgent"}).status_code in (200, 422)
    assert gw.as_("alice", "POST", path, json={"field": "category", "value": "weather"}).status_code == 422
    assert gw.as_("alice", "POST", path, json={"field": "route", "value": "complaints"}).status_code == 422
    assert gw.as_("editor", "POST", path, json={"field": "category", "value": "plan"}).status_code == 403
    assert gw.as_("alice", "POST", "/api/handoffs/99999/corrections",
                  json={"field": "category", "value": "plan"}).status_code == 404
    assert gw.rows("SELECT count(*) FROM label_corrections WHERE handoff_id = :h", h=record["id"])[0][0] >= 1
