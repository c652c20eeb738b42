"""The bot's Chinese reply texts and buttons built by actions (static ones live in the domain).
Only wording: what the bot decided travels separately (common/bot_protocol.py), so any of these
may be reworded freely."""

from __future__ import annotations

from common.bot_protocol import (
    CHOOSE_ENTRY_PAYLOAD,
    HELPFUL_PAYLOAD,
    HUMAN_REQUEST_PAYLOAD,
    UNHELPFUL_PAYLOAD,
    entry_payload,
)

FEEDBACK_PROMPT = "这个回答对您有帮助吗？"
CLARIFY_PROMPT = "您是不是想问："
NO_ANSWER_FIRST = "抱歉，这个问题我暂时没有找到准确的答案。您可以换个说法再问一次，或者点击“转人工”由客服为您处理。"
UNHELPFUL_FIRST = "抱歉没能帮到您。您可以换个说法再描述一下问题，或者点击“转人工”。"
HELPFUL_THANKS = "很高兴能帮到您！还有其他问题随时问我。"
HANDOFF_FAILED = "非常抱歉，转人工暂时没有成功，我们已记录您的问题。您也可以拨打客服热线 10050。"
NO_TICKET = "您目前没有进行中的人工服务工单。如需人工帮助，请回复“转人工”。"
STATUS_TEXT = {
    "queued": "正在排队等待客服接入",
    "assigned": "客服已接单，马上为您处理",
    "in_progress": "客服正在处理中",
    "resolved": "已处理完成，等待您确认",
    "closed": "已办结",
}


def human_button() -> dict[str, str]:
    return {"title": "转人工", "payload": HUMAN_REQUEST_PAYLOAD}


def feedback_buttons(entry_id: str) -> list[dict[str, str]]:
    return [
        {"title": "有帮助", "payload": entry_payload(HELPFUL_PAYLOAD, entry_id)},
        {"title": "没帮助", "payload": entry_payload(UNHELPFUL_PAYLOAD, entry_id)},
    ]


def choose_button(entry_id: str, question: str) -> dict[str, str]:
    return {"title": question, "payload": entry_payload(CHOOSE_ENTRY_PAYLOAD, entry_id)}
