"""Agents' label corrections retrain the ticket classifier (issue 17): a category an agent
corrected on a few handoffs becomes the prediction for a similar new ticket, the latest
correction of a field wins, values outside the label set are skipped, and setup keeps the
retrained model while the seed data is unchanged."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from assist_api.assist.classifier import TicketClassifier, ensure_trained
from assist_api.assist.classifier_retrain import retrain_classifier
from assist_api.assist.feedback import LabelCorrection
from config.settings import Settings
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import HandoffReason
from gateway.handoffs.service import HandoffService
from tests.support.gateway import customer

# Cloud-drive membership renewals: the seed data files them under `other`.
CORRECTED = ["星联云盘的会员到期了怎么续费", "云盘会员自动续费在哪关掉", "云盘会员续费价格是多少"]
SIMILAR = "云盘会员能不能按年续费"


def _handoff(sessions: sessionmaker[Session], settings: Settings, text: str) -> int:
    conversations = ConversationService(sessions)
    conv = conversations.resolve("web", customer(), None)
    conversations.add_message(conv.id, "customer", text)
    return HandoffService(sessions, settings, conversations).create(conv.id, HandoffReason.user_request).handoff.id


def test_corrections_move_the_prediction_for_a_similar_ticket(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    sessions = session_factory(sqlite_url)
    settings = Settings(var_dir=tmp_path / "var", assist_model_file=tmp_path / "assist.pkl")
    before, _ = ensure_trained(settings.resolved_assist_model_file)
    assert before.predict(SIMILAR)["category"].label == "other"

    ids = [_handoff(sessions, settings, text) for text in CORRECTED]
    with sessions.begin() as session:
        for handoff_id in ids:
            session.add(LabelCorrection(handoff_id=handoff_id, field="category", old_value="other",
                                        new_value="billing", agent="alice"))
            session.add(LabelCorrection(handoff_id=handoff_id, field="category", old_value="billing",
                                        new_value="plan", agent="alice"))  # the later one wins
        session.add(LabelCorrection(handoff_id=ids[0], field="emotion", old_value="neutral",
                                    new_value="furious", agent="alice"))  # not a label: skipped

    report = retrain_classifier(sessions, settings)
    assert report.corrections == 3 and report.per_field == {"category": 3} and report.skipped == 1

    after = TicketClassifier.load(settings.resolved_assist_model_file)
    assert after is not None and after.corrections == 3
    assert after.predict(SIMILAR)["category"].label == "plan"
    assert after.predict("这个月话费怎么多扣了50元")["category"].label == "billing"  # the rest stays
    kept, retrained = ensure_trained(settings.resolved_assist_model_file)
    assert not retrained and kept.corrections == 3
