"""Replay of simulated agents on the conversation-context suggestion set: does the ranker learn?

For each `replay` case the cold ranker shows its top 3 for the conversation; the simulated agent
inserts the best acceptable suggestion shown (acceptable lists are ordered best first; sent
unchanged, or edited a little), or ignores
them all and finds an acceptable template in the library (recorded as an accepted item that was
not shown). The conversations and handoffs go into a temporary SQLite database and the events
through FeedbackService, as the console's events API stores them; `python -m assist_api.assist
retrain`'s code then reads them back and retrains, and
top-1 / top-3 are measured on the `heldout` cases before and after.

Usage: python bench/assist_replay.py   (assist_bench.py runs it too and stores the figures)
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from assist_api.assist.classifier import DATA_DIR, TicketClassifier, ensure_trained
from assist_api.assist.config import load_config
from assist_api.assist.feedback import SuggestionAction
from assist_api.assist.feedback_service import EventIn, FeedbackService
from assist_api.assist.learning import classify_context, fit, read_impressions
from assist_api.assist.ranker import RankerModel
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import ReplyTemplate, TemplateStore
from config.settings import Settings
from db.base import utcnow
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.models import Conversation, Message
from gateway.handoffs.models import Handoff
from gateway.handoffs.service_levels import ServiceLevels
from kb.interchange import parse_file
from kb.search.engine import SearchEngine
from kb.search.indexer import open_engine
from kb.store import KBStore

CASES = DATA_DIR / "suggest_conversations.jsonl"
SHOWN = 3
SEED = 17
AGENT = "agent-sim"


def read_cases(path: Path = CASES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@dataclass
class Bench:
    """A temporary database with the demo KB, the template library and the classifier."""

    settings: Settings
    classifier: TicketClassifier
    templates: list[ReplyTemplate]
    engine: SearchEngine

    @classmethod
    def open(cls, tmp: Path, classifier: TicketClassifier | None = None) -> Bench:
        settings = Settings(database_url=f"sqlite:///{tmp}/replay.sqlite3", var_dir=tmp / "var")
        upgrade(settings.database_url)
        store = KBStore(settings.database_url)
        store.import_records(parse_file(settings.demo_kb_file).records)
        library = TemplateStore(session_factory(settings.database_url))
        library.seed(settings.assist_templates_file)
        if classifier is None:
            classifier, _ = ensure_trained(settings.resolved_assist_model_file)
        return cls(settings, classifier, library.list(), open_engine(store, settings))

    def suggest(self, suggester: Suggester, case: dict[str, Any], k: int = SHOWN) -> list[str]:
        """Item keys of the top k for the case's conversation, as the suggest route computes them."""
        from assist_api.assist.context import Turn

        turns = [Turn(t["sender"], t["text"]) for t in case["conversation"]]
        classification = classify_context(self.classifier.classify, turns)
        out = suggester.suggest("", self.templates, classification, {"agent_name": "小李"}, k=k,
                                engine=self.engine, conversation=case["conversation"])
        return [f"{s.source}:{s.id}" for s in out]


def scores(bench: Bench, suggester: Suggester, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """top-1 / top-3 (an acceptable template first / among the first three) and per stage."""
    hit1 = hit3 = 0
    by_stage: dict[str, list[int]] = {}
    for case in cases:
        keys = bench.suggest(suggester, case)
        acceptable = {f"template:{t}" for t in case["acceptable"]}
        first = bool(keys) and keys[0] in acceptable
        any3 = bool(acceptable & set(keys[:3]))
        hit1 += first
        hit3 += any3
        stage = by_stage.setdefault(case["stage"], [0, 0, 0])
        stage[0] += 1
        stage[1] += first
        stage[2] += any3
    n = max(len(cases), 1)
    return {"cases": len(cases), "top1": round(hit1 / n, 4), "top3": round(hit3 / n, 4),
            "by_stage": {s: {"cases": v[0], "top1": round(v[1] / v[0], 4), "top3": round(v[2] / v[0], 4)}
                         for s, v in sorted(by_stage.items())}}


def simulate(bench: Bench, suggester: Suggester, cases: list[dict[str, Any]], seed: int = SEED) -> dict[str, int]:
    """Agents work through the replay cases: each conversation and its handoff are stored, and the
    events go through the service the console's events API uses. Returns what the agents did."""
    rng = random.Random(seed)
    sessions = session_factory(bench.settings.database_url)
    feedback = FeedbackService(sessions, ServiceLevels(bench.settings))
    tally = {"inserted_shown": 0, "found_in_library": 0}
    start = utcnow() - timedelta(days=1)  # the conversations happened before the events
    for n, case in enumerate(cases):
        at = start + timedelta(seconds=10 * n)
        conv_id = uuid.uuid4().hex
        with sessions.begin() as session:
            session.add(Conversation(id=conv_id, channel="web", customer_id=f"replay-{case['id']}",
                                     state="agent", created_at=at, updated_at=at))
            session.flush()
            session.add_all(Message(conversation_id=conv_id, sender=t["sender"], text=t["text"], created_at=at)
                            for t in case["conversation"])
            handoff = Handoff(conversation_id=conv_id, channel="web", customer_id=f"replay-{case['id']}",
                              reason="customer_request", summary={}, classification={}, priority="normal",
                              first_response_due=at, resolution_due=at, status="assigned", owner=AGENT,
                              created_at=at, updated_at=at)
            session.add(handoff)
            session.flush()
            handoff_id = handoff.id
        shown = bench.suggest(suggester, case)
        impression = uuid.uuid4().hex
        acceptable = [f"template:{t}" for t in case["acceptable"]]
        # Of the acceptable replies shown, the agent takes the best (the labeller lists it first).
        picked = next((key for key in acceptable if key in shown), None)
        events = [_event(impression, key, rank, SuggestionAction.shown) for rank, key in enumerate(shown, 1)]
        if picked is not None:
            tally["inserted_shown"] += 1
            rank = shown.index(picked) + 1
            events.append(_event(impression, picked, rank, SuggestionAction.inserted))
            edited = rng.random() >= 0.7
            events.append(_event(impression, picked, rank, SuggestionAction.sent_edited if edited
                                 else SuggestionAction.sent_unchanged, rng.randint(2, 12) if edited else 0))
            events += [_event(impression, key, r, SuggestionAction.ignored)
                       for r, key in enumerate(shown, 1) if key != picked]
        else:
            tally["found_in_library"] += 1
            events += [_event(impression, key, r, SuggestionAction.ignored) for r, key in enumerate(shown, 1)]
            # Typed its own reply from a template found by searching the library (rank 0: not shown).
            events.append(_event(impression, acceptable[0], 0, SuggestionAction.sent_edited, rng.randint(1, 8)))
        feedback.record_events(handoff_id, AGENT, events)
    return tally


def _event(impression: str, key: str, rank: int, action: SuggestionAction, distance: int | None = None) -> EventIn:
    source, _, item = key.partition(":")
    return EventIn(impression, source, item, rank, action.value, edit_distance=distance)


def run(bench: Bench, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Cold figures on both splits, the replay, retraining, figures after on held-out."""
    replay = [c for c in cases if c["split"] == "replay"]
    heldout = [c for c in cases if c["split"] == "heldout"]
    cold = Suggester(load_config())
    result: dict[str, Any] = {"cold": {"all": scores(bench, cold, cases), "replay": scores(bench, cold, replay),
                                       "heldout": scores(bench, cold, heldout)}}
    result["agents"] = simulate(bench, cold, replay)
    started = time.perf_counter()
    impressions = read_impressions(session_factory(bench.settings.database_url))
    model = fit(impressions, Suggester(load_config()), bench.templates, bench.classifier.classify)
    result["retrain_seconds"] = round(time.perf_counter() - started, 2)
    result["model"] = model.info
    learned = Suggester(load_config(), RankerModel.from_json(model.to_json()))  # as loaded from its file
    result["learned"] = {"replay": scores(bench, learned, replay), "heldout": scores(bench, learned, heldout)}
    return result


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Bench.open(Path(tmp)), read_cases())
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
