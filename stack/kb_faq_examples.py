"""Which KB questions become `ask_faq` NLU examples: each entry's question and first similar
questions, minus any that the hand-written training data already holds (under any intent),
so the generated data never contradicts it ("转人工" stays `request_human` only)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import yaml

from kb.text.normalize import normalize

FAQ_INTENT = "ask_faq"
FAQ_EXAMPLES_PER_ENTRY = 3

# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" inside an example as an entity
# annotation and keeps only "text" (rasa.shared.nlu.training_data.entities_parser).
_ENTITY_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+?)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")


class KBQuestions(Protocol):
    """A KB entry as stored (kb.models.KBEntry) or as imported (kb.interchange.EntryRecord)."""

    question: str
    similar_questions: list[str]


def example_key(text: str) -> str:
    """What makes two examples the same to the NLU: the text Rasa keeps of the example,
    normalised (width, script, case, punctuation) and without spaces. Rasa's validator flags
    exact duplicates only; this also catches "我要投诉！" against "我要投诉"."""
    return normalize(_ENTITY_ANNOTATION.sub(lambda m: m["text"], text)).replace(" ", "")


def hand_written_keys(data_dir: Path) -> set[str]:
    """The keys of every intent example in the hand-written NLU files under data_dir."""
    keys: set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text("utf-8")) or {}
        for block in document.get("nlu") or []:
            examples = block.get("examples") if "intent" in block else None
            if not isinstance(examples, str):
                continue
            for line in examples.splitlines():
                if line.startswith("-"):
                    keys.add(example_key(line[1:].strip()))
    return keys


def as_example(question: str) -> str:
    """A KB question as one line of a Rasa examples block: control characters and runs of
    whitespace become one space, and ASCII brackets turn full-width so that no question reads
    as an entity annotation."""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in question)
    return " ".join(text.split()).replace("[", "［").replace("]", "］")


def kb_faq_examples(entries: Iterable[KBQuestions], taken: set[str]) -> list[str]:
    """The ask_faq examples for these KB entries: per entry its question and first similar
    questions (FAQ_EXAMPLES_PER_ENTRY in all), leaving out any whose key is in `taken` (the
    hand-written examples), empty after normalisation, or already generated."""
    seen = set(taken)
    examples = []
    for entry in entries:
        for question in [entry.question, *entry.similar_questions][:FAQ_EXAMPLES_PER_ENTRY]:
            text = as_example(question)
            key = example_key(text)
            if key and key not in seen:
                seen.add(key)
                examples.append(text)
    return examples


def render_nlu(examples: list[str]) -> str:
    """A Rasa NLU file with the examples under FAQ_INTENT."""
    lines = ['version: "3.1"', "nlu:", f"- intent: {FAQ_INTENT}", "  examples: |"]
    lines += [f"    - {example}" for example in examples]
    return "\n".join(lines) + "\n"
