"""Search behaviour a customer or KB editor notices, on the demo KB."""

from __future__ import annotations

import threading

import pytest

from config.settings import Settings
from kb.evaluation import EvalQuery, evaluate
from kb.search.engine import QueryError
from kb.search.indexer import index_store, open_engine, rebuild
from kb.search.live import LiveEngine
from kb.workflow import Status


@pytest.fixture
def engine(demo_store, settings):
    return open_engine(demo_store, settings)


def test_standard_questions_are_answered_with_their_own_entry(engine, demo_records):
    hits = 0
    for record in demo_records:
        response = engine.search(record.question)
        hits += response.top.id == record.id and response.decision == "answer"
    # A customer who types an entry's own question gets that answer outright.
    assert hits / len(demo_records) >= 0.95


@pytest.mark.parametrize("query", ["今天天气怎么样", "给我讲个笑话吧", "推荐一部好看的电影"])
def test_chit_chat_is_handed_off(engine, query):
    assert engine.search(query).decision == "handoff"


def test_results_are_grouped_per_entry_with_bounded_confidence(engine):
    response = engine.search("宽带老是掉线，网速也慢", top_k=8)
    ids = [h.id for h in response.hits]
    assert len(ids) == len(set(ids)) == 8
    assert all(0.0 <= h.confidence <= 1.0 for h in response.hits)
    assert [h.score for h in response.hits] == sorted((h.score for h in response.hits), reverse=True)
    assert response.to_json()["results"][0].keys() == {"id", "question", "score", "confidence"}


def test_traditional_and_full_width_queries_match_like_simplified(engine):
    simplified = engine.search("宽带经常掉线怎么办")
    traditional = engine.search("寬帶經常掉線怎麼辦？")
    full_width = engine.search("宽带经常掉线怎么办？？　")
    assert [h.id for h in traditional.hits] == [h.id for h in simplified.hits]
    assert [h.id for h in full_width.hits] == [h.id for h in simplified.hits]


def test_thresholds_from_settings_override_the_calibration(demo_store, tmp_path):
    always_answer = open_engine(demo_store,
                                Settings(var_dir=tmp_path / "a", answer_threshold=0.0, clarify_threshold=0.0))
    never_answer = open_engine(demo_store,
                               Settings(var_dir=tmp_path / "b", answer_threshold=1.0, clarify_threshold=1.0))
    assert always_answer.search("怎么查话费余额").decision == "answer"
    assert never_answer.search("怎么查话费余额").decision == "handoff"


@pytest.mark.parametrize("query", ["", "   ", "话" * 1001])
def test_unsearchable_queries_are_refused(engine, query):
    with pytest.raises(QueryError):
        engine.search(query)


def test_only_published_entries_are_found_and_publishing_reaches_a_running_engine(demo_store, settings):
    live = LiveEngine(demo_store, settings, check_interval_s=0)
    question = "星联通信的吉祥物叫什么名字"
    demo_store.create("other-900", {"question": question, "answer": "星联的吉祥物叫“联联”。",
                                    "category": "other", "similar_questions": ["吉祥物是什么"]})
    assert "other-900" not in [h.id for h in live.get().search(question).hits]
    demo_store.transition("other-900", Status.review)
    demo_store.transition("other-900", Status.published)
    top = live.get().search(question).top
    assert top.id == "other-900"
    demo_store.transition("other-900", Status.archived)
    assert "other-900" not in [h.id for h in live.get().search(question).hits]


def test_searches_never_fail_while_the_index_is_rebuilt(demo_store, settings):
    live = LiveEngine(demo_store, settings, check_interval_s=0)
    errors: list[BaseException] = []
    done = threading.Event()

    def searcher() -> None:
        while not done.is_set():
            try:
                assert live.get().search("话费怎么充值").hits
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            demo_store.update("billing-001", {"tags": ["话费", f"轮次{i}"]})
            rebuild(demo_store, settings)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == []
    versions = [p for p in index_store(settings, demo_store.database_url).root.iterdir() if p.is_dir()]
    assert len(versions) <= settings.index_keep_versions


def test_stale_index_is_rebuilt_on_open(demo_store, settings):
    first = open_engine(demo_store, settings)
    demo_store.update("billing-001", {"similar_questions": ["余额宝宝查询"]})
    second = open_engine(demo_store, settings)
    assert second.revision == demo_store.revision() != first.revision
    assert second.search("余额宝宝查询").top.id == "billing-001"


def test_evaluate_reports_recall_and_out_of_scope_handling(engine):
    queries = [
        EvalQuery(1, "怎么查话费余额", "billing-001"),
        EvalQuery(2, "宽带经常掉线怎么办", "broadband-006"),
        EvalQuery(3, "今天天气怎么样", None),
    ]
    metrics = evaluate(engine, queries)
    assert metrics["recall@1"] == 1.0 and metrics["recall@3"] == 1.0 and metrics["mrr"] == 1.0
    assert metrics["oos_recall"] == 1.0
    assert sum(metrics["decisions"].values()) == 3
    assert metrics["latency_ms"]["p95"] >= metrics["latency_ms"]["p50"] > 0
