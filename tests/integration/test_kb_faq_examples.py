"""The ask_faq examples generated from the KB never repeat an example of another intent, so
Rasa never learns one message under two intents (no Rasa needed: these are fast)."""

from __future__ import annotations

import yaml

from config.settings import Settings
from db.migrate import upgrade
from kb.store import KBStore
from stack.kb_faq_examples import FAQ_INTENT
from stack.rasa_model import DATA_DIR, write_kb_faq_examples


def nlu_examples(path) -> dict[str, list[str]]:
    """intent → its examples as Rasa reads them (the text after "- ")."""
    document = yaml.safe_load(path.read_text("utf-8"))
    return {block["intent"]: [line[1:].strip() for line in block["examples"].splitlines()]
            for block in document["nlu"] if "intent" in block}


def other_intents_examples() -> set[str]:
    examples = nlu_examples(DATA_DIR / "nlu.yml")
    return {text for intent, texts in examples.items() if intent != FAQ_INTENT for text in texts}


def generate(tmp_path, entries) -> list[str]:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    settings = Settings(var_dir=tmp_path / "var", database_url=url)
    if entries:
        upgrade(url)
        KBStore(url).import_records(entries)
    generated = nlu_examples(write_kb_faq_examples(settings))
    assert list(generated) == [FAQ_INTENT]
    return generated[FAQ_INTENT]


def test_kb_questions_that_are_another_intents_examples_are_left_out(tmp_path, demo_records):
    assert {"转人工", "我要投诉"} <= other_intents_examples()  # request_human, complain
    entries = [
        demo_records[0].model_copy(update={
            "id": "service-901", "question": "转人工", "similar_questions": ["我要投诉！", "话费怎么退？"]}),
        demo_records[1].model_copy(update={
            "id": "service-902", "question": "我要 投诉", "similar_questions": ["轉人工", "ＳＩＭ卡怎么激活"]}),
    ]
    examples = generate(tmp_path, entries)
    # Exact, spaced, with punctuation or in Traditional script: another intent's example is
    # never an ask_faq one.
    assert not {"转人工", "我要投诉！", "我要 投诉", "轉人工"} & set(examples)
    # The entries' other questions still teach the NLU their topics.
    assert examples == ["话费怎么退？", "ＳＩＭ卡怎么激活"]


def test_demo_kb_examples_never_repeat_another_intents_example(tmp_path):
    examples = generate(tmp_path, [])  # nothing published: the shipped demo KB
    assert len(examples) > 300
    assert set(examples) & other_intents_examples() == set()
    assert len(set(examples)) == len(examples)


def test_a_question_with_brackets_is_not_read_as_an_entity_annotation(tmp_path, demo_records):
    entry = demo_records[0].model_copy(update={
        "id": "plan-901", "question": "[5G](plan)套餐\t怎么\n办理", "similar_questions": ["？？"]})
    assert generate(tmp_path, [entry]) == ["［5G］(plan)套餐 怎么 办理"]
