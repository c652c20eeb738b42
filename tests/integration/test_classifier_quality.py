"""What an agent notices about the ticket classifier (issue 17): a threat to go to 12315 or the
media is a complaint, and a confidence shown as ≥ 0.9 is right nearly always on the held-out split."""

from __future__ import annotations

import pytest

from assist_api.assist.classifier import DATA_DIR, TicketClassifier, ensure_trained, read_rows


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> TicketClassifier:
    model, _ = ensure_trained(tmp_path_factory.mktemp("assist") / "assist.pkl")
    return model


@pytest.mark.parametrize("text", [
    "宽带断了三天没人来修，再不解决我就打12315投诉你们",
    "乱扣我话费还不退，我要去工信部申诉，还要找媒体曝光",
])
def test_a_threat_to_go_to_regulators_or_the_media_is_a_complaint(classifier, text):
    assert classifier.predict(text)["is_complaint"].label is True


def test_a_plain_question_is_not_a_complaint(classifier):
    assert classifier.predict("请问怎么查询本月的流量使用情况")["is_complaint"].label is False


def test_confident_category_predictions_are_right_on_the_held_out_split(classifier):
    test = read_rows(DATA_DIR / "test.jsonl")
    confident = [(p.label == row["category"]) for row in test
                 if (p := classifier.predict(row["text"])["category"]).confidence >= 0.9]
    assert len(confident) >= len(test) // 2  # confidences are not all hedged
    assert sum(confident) / len(confident) >= 0.85
