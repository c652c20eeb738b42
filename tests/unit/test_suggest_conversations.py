"""The conversation-context suggestion set (assist_api/assist/data/suggest_conversations.jsonl):
well-formed, its acceptable templates exist and fit the stage of the expected reply, its labels
come from common/labels.yaml, and both splits cover every stage and category."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import yaml

from common.labels import load_labels
from config.settings import PROJECT_ROOT
from gateway.conversations.pii import mask_pii

DATA = PROJECT_ROOT / "assist_api" / "assist" / "data"
STAGES = ("opening", "confirmation", "solution", "soothing", "closing")
# Opening and closing cases accept only their own stage (no second greeting, nothing but a
# closing once the customer confirms). Mid-conversation a good agent may paraphrase, hold,
# soothe or solve, so those three cases may accept each other's templates; the case's stage
# names the expected reply and at least one acceptable template has it.
ALLOWED = {
    "opening": {"opening"},
    "confirmation": {"confirmation", "solution", "soothing"},
    "solution": {"confirmation", "solution", "soothing"},
    "soothing": {"confirmation", "solution", "soothing"},
    "closing": {"closing"},
}
SENDERS = {"bot", "customer", "agent"}
KEYS = {"id", "conversation", "acceptable", "stage", "category", "emotion", "split"}


@cache
def _cases() -> list[dict[str, Any]]:
    text = (DATA / "suggest_conversations.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@cache
def _template_stages() -> dict[str, str]:
    templates = yaml.safe_load((DATA / "templates.yaml").read_text("utf-8"))
    return {t["id"]: t["stage"] for t in templates}


def test_enough_cases_with_unique_ids_and_the_agreed_keys():
    cases = _cases()
    assert len(cases) >= 400
    assert len({c["id"] for c in cases}) == len(cases)
    for case in cases:
        assert set(case) == KEYS, case["id"]


def test_each_case_is_a_conversation_up_to_the_agents_turn():
    for case in _cases():
        turns = case["conversation"]
        assert 1 <= len(turns) <= 12, case["id"]
        for turn in turns:
            assert turn["sender"] in SENDERS and turn["text"].strip(), case["id"]
            # Stored as the gateway stores it: personal data already masked.
            assert mask_pii(turn["text"]) == turn["text"], case["id"]
        assert turns[-1]["sender"] != "agent", case["id"]
        if case["stage"] == "opening":  # the agent has not spoken yet
            assert all(t["sender"] != "agent" for t in turns), case["id"]


def test_acceptable_templates_exist_and_fit_the_stage():
    stages = _template_stages()
    for case in _cases():
        acceptable = case["acceptable"]
        assert acceptable and len(set(acceptable)) == len(acceptable), case["id"]
        assert case["stage"] in ALLOWED, case["id"]
        for template_id in acceptable:
            assert template_id in stages, (case["id"], template_id)
            assert stages[template_id] in ALLOWED[case["stage"]], (case["id"], template_id)
        assert any(stages[t] == case["stage"] for t in acceptable), case["id"]


def test_labels_come_from_the_label_source():
    labels = load_labels()
    for case in _cases():
        assert case["category"] in labels.values("category"), case["id"]
        assert case["emotion"] in labels.values("emotion"), case["id"]


def test_both_splits_cover_every_stage_and_category():
    cases = _cases()
    categories = set(load_labels().values("category"))
    splits = Counter(c["split"] for c in cases)
    assert set(splits) == {"replay", "heldout"}
    assert 0.3 <= splits["heldout"] / len(cases) <= 0.5
    for split in splits:
        part = [c for c in cases if c["split"] == split]
        assert {c["stage"] for c in part} == set(STAGES), split
        assert {c["category"] for c in part} == categories, split
