"""Customer-facing Chinese texts about handoffs, shared by the gateway and the action server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.bot_protocol import HUMAN_REQUEST_PAYLOAD as HUMAN_REQUEST_PAYLOAD  # re-exported
from db.base import utcnow
from gateway.handoffs.service_levels import ServiceLevels

# What customers type to ask for a person; the gateway honours them even without the bot, and
# they are left out of the record's "customer's own words".
HUMAN_REQUEST_TEXTS = ("转人工", "人工", "人工客服", "找人工", "转人工客服")
# A queued customer chooses to leave a message instead of waiting (handoffs/waiting.py).
LEAVE_MESSAGE_PAYLOAD = "/leave_message"


def local_time(levels: ServiceLevels, when: datetime) -> str:
    local = when.astimezone(levels.tz)
    return local.strftime("%m月%d日 %H:%M").lstrip("0")


def handoff_confirmation(outcome: Any, levels: ServiceLevels) -> str:
    h = outcome.handoff
    if not outcome.in_business_hours:
        return (
            f"现在是非工作时间（人工服务时间 {levels.settings.business_open}–{levels.settings.business_close}）。"
            f"您的问题已记录（工单号 {h.id}），"
            f"客服将在 {local_time(levels, h.first_response_due)} 前联系您，无需重复描述。"
        )
    position = outcome.queue_position or 1
    ahead = f"您前面还有 {position - 1} 位客户" if position > 1 else "您是下一位"
    wait = levels.expected_wait_min(position, h.first_response_due, utcnow())
    return (
        f"已为您转接人工客服（工单号 {h.id}），{ahead}，预计等待约 {wait} 分钟，"
        f"客服将在 {local_time(levels, h.first_response_due)} 前回复您。您刚才说的情况已转给客服，无需重复描述。"
    )


def bot_unavailable() -> dict[str, Any]:
    return {
        "text": "非常抱歉，智能客服暂时无法回复。您的消息已保存，可以点击下方按钮转人工客服。",
        "buttons": [{"title": "转人工", "payload": HUMAN_REQUEST_PAYLOAD}],
    }


CONFIRM_PAYLOAD = "/confirm_resolved"
DISPUTE_PAYLOAD = "/not_resolved"


def resolution_check() -> dict[str, Any]:
    """Sent to the customer when the agent marks the case resolved."""
    return {
        "text": "客服已为您处理完毕，请确认问题是否已经解决：",
        "buttons": [{"title": "已解决", "payload": CONFIRM_PAYLOAD},
                    {"title": "还没解决", "payload": DISPUTE_PAYLOAD}],
    }


def resolution_confirmed(ticket_id: int) -> str:
    return f"感谢您的确认，工单 {ticket_id} 已办结。如还有其他问题，随时给我们留言。"


def resolution_disputed() -> str:
    return "抱歉问题还没有解决，已通知客服继续为您处理，请稍候。"
