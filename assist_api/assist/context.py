"""Where a handed-off conversation stands, read from its turns: what the agent has already sent
(opening → confirmation → solution → soothing → closing), whether the customer has just
confirmed the matter is settled, and the customer's words to match templates against.

The stage of an agent message is the stage of the template it was sent from when it matches
one closely (the console inserts templates, agents edit them a little); otherwise cue phrases
decide (您好…我是 → opening, 抱歉 → soothing, 请稍等/麻烦提供 → confirmation, 祝您/还有其他 →
closing, anything else a solution).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

STAGES = ("opening", "confirmation", "solution", "soothing", "closing")
START = "start"  # the agent has not written yet
STATES = (START, *STAGES)

# The customer says the matter is settled: strong cues whatever the agent said last; plain
# acknowledgements (嗯, 好的…) only as a short reply to something other than a question or a hold.
_SETTLED = re.compile(r"谢谢|感谢|多谢|解决[了啦]|搞定|(?<![不没])(能用|能上|能登|能打|恢复|有信号)[了啦]|没问题[了啦]"
                      r"|没事了|找到了|先试试|试试看|再找你|^好了", re.IGNORECASE)
_ACKNOWLEDGED = re.compile(r"^(嗯+|好+的?|好吧|行吧?|ok|可以|明白了?|知道了|收到了?|了解)", re.IGNORECASE)
_WAITS = re.compile(r"再说吧|那就这样|没别的了|等.{0,4}(电话|结果|快递|退款|通知|师傅)")
SHORT_REPLY = 20  # characters: an acknowledgement, not a new problem
_STILL_OPEN = re.compile(r"还是|没解决|不行|没用|没好|怎么|为什么|什么时候|多久|[吗呢][？?]?$|[？?]"
                         r"|但是|可是|还有个|另外|不过|顺便|对了|问一下|多少钱")
_HOLD = re.compile(r"请稍等|稍等|我帮您(查|看)|为您查询|核实一下|[吗？?]\s*$")
_OPENING = re.compile(r"^(您好|你好)|我是.{0,8}(客服|专员)|为您服务|接入人工|由我(来)?为您")
_SOOTHING = re.compile(r"抱歉|对不起|致歉|理解您的(心情|感受)|给您添麻烦|让您久等|您别着急|请您放心|别担心")
_CONFIRMATION = re.compile(r"请稍等|稍等|请问|麻烦(您)?提供|核实|确认一下|帮您查|为您查询|查询一下|请提供"
                           r"|是吗[？?]|对吗[？?]")
_GREETING_ONLY = re.compile(r"有什么可以帮|很高兴为您服务|为您服务")
_CLOSING = re.compile(r"还有其他|还有什么|祝您|满意度|评价|再见|随时联系|随时找我|感谢您的(耐心|理解|支持)")


@dataclass(frozen=True)
class Turn:
    sender: str  # bot | customer | agent
    text: str

    @classmethod
    def of(cls, item: Any) -> Turn:
        """A turn from a dict ({"sender", "text"}) or anything with sender and text attributes
        (the gateway's stored messages)."""
        if isinstance(item, Turn):
            return item
        if isinstance(item, dict):
            return cls(str(item.get("sender", "")), str(item.get("text", "")))
        return cls(str(item.sender), str(item.text))


@dataclass
class ConversationContext:
    turns: list[Turn]
    agent_stages: list[str] = field(default_factory=list)  # stage of each agent message, in order
    agent_templates: set[str] = field(default_factory=set)  # templates the agent already sent

    @property
    def customer_turns(self) -> list[str]:
        # Slash commands are the widget's buttons (/restart…), not words.
        return [t.text for t in self.turns if t.sender == "customer" and t.text.strip() and not t.text.startswith("/")]

    @property
    def latest_customer(self) -> str:
        turns = self.customer_turns
        return turns[-1] if turns else ""

    @property
    def greeted(self) -> bool:
        return bool(self.agent_stages)

    @property
    def state(self) -> str:
        """The last stage the agent reached (START before the agent wrote)."""
        return self.agent_stages[-1] if self.agent_stages else START

    @property
    def customer_confirms(self) -> bool:
        """The customer's latest message (after the agent wrote) says it is settled: 谢谢, 解决了…"""
        if not self.greeted:
            return False
        last_agent = next((t.text for t in reversed(self.turns) if t.sender == "agent"), "")
        return confirms(self.latest_customer, after_question=bool(_HOLD.search(last_agent)))

    def query(self, recent: int = 2) -> str:
        """The customer's recent words: what the next reply answers."""
        return "\n".join(self.customer_turns[-recent:])


def confirms(text: str, after_question: bool = False) -> bool:
    """Does this customer message settle the matter? `after_question`: the agent's last message
    asked something or put the customer on hold, so a bare 嗯/好的 only answers that."""
    text = text.strip()
    if _STILL_OPEN.search(text):
        return False
    if _SETTLED.search(text) or _WAITS.search(text):
        return True
    return bool(_ACKNOWLEDGED.match(text)) and len(text) <= SHORT_REPLY and not after_question


def cue_stage(text: str) -> str:
    """The stage of a free-written agent message, by its cue phrases."""
    if _CLOSING.search(text):
        return "closing"
    if _OPENING.search(text[:30]):
        return "opening"
    if _SOOTHING.search(text):
        return "soothing"
    if _CONFIRMATION.search(text):
        return "confirmation"
    return "solution"


def cue_stages(text: str) -> list[str]:
    """A greeting followed by more (您好，我是小王。APN 设置为…) is an opening and what follows."""
    stage = cue_stage(text)
    if stage != "opening":
        return [stage]
    parts = re.split(r"(?<=[。！!？?])", text, maxsplit=1)
    rest = re.sub(r"^.*?(我是|这里是)[^，,。]*[，,。]", "", text) if len(parts) < 2 or not parts[1] else parts[1]
    rest = rest.strip()
    if _GREETING_ONLY.search(rest):
        return ["opening"]
    return ["opening", cue_stage(rest)] if len(rest) >= 8 and rest != text else ["opening"]


Matcher = Callable[[str], "tuple[str, str] | None"]  # agent text → (template id, stage) when it was sent from one


def read_context(turns: Iterable[Any], match_template: Matcher | None = None) -> ConversationContext:
    """The context of a conversation from its turns (dicts or stored messages, oldest first)."""
    items = [Turn.of(t) for t in turns]
    context = ConversationContext(items)
    for turn in items:
        if turn.sender != "agent" or not turn.text.strip():
            continue
        matched = match_template(turn.text) if match_template else None
        if matched:
            context.agent_templates.add(matched[0])
            context.agent_stages.append(matched[1])
        else:
            context.agent_stages.extend(cue_stages(turn.text))
    return context


def from_text(text: str, history: Sequence[str] = (), agent_has_replied: bool = True) -> list[Turn]:
    """Turns for the single-message call: the customer's messages, after the agent's greeting
    when the agent has already replied (so no second opening is offered)."""
    turns = [Turn("agent", "您好，我是客服，很高兴为您服务。")] if agent_has_replied else []
    turns += [Turn("customer", h) for h in history if h.strip()]
    turns.append(Turn("customer", text))
    return turns
