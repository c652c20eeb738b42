"""Rule-based triage of a handed-off conversation: emotion, priority, complexity, category.

An interim classifier with keyword cues and honest, modest confidences; the trained
agent-assist classifier replaces it behind the same `classify` function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANGRY = ("气死", "垃圾", "什么破", "破网", "骗子", "滚", "太过分", "无语", "坑人", "坑爹", "恶心",
         "欺负", "有病", "他妈", "妈的", "tmd", "忍无可忍", "受够了", "火大", "离谱")
ANXIOUS = ("着急", "急死", "很急", "急急", "赶紧", "马上", "快点", "尽快", "立刻", "怎么办啊", "急用")
DISAPPOINTED = ("失望", "还是不行", "又不行", "算了", "白等", "没用", "不想说了")
URGENT = ("被盗", "盗号", "诈骗", "被骗", "骗了", "转账", "全断", "都断网", "整个小区", "全部断",
          "数据丢失", "资料丢失", "联系不上", "紧急", "报警")
SPECIAL = ("律师", "起诉", "法院", "媒体", "曝光", "记者", "12315", "工信部", "消协", "赔偿", "VIP", "vip")
REPEAT = ("第二次", "第三次", "好几次", "又来", "多次", "一直没人", "反复")


@dataclass
class Label:
    label: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 3)}


def _hits(text: str, cues: tuple[str, ...]) -> int:
    return sum(1 for cue in cues if cue in text)


def emotion(text: str) -> Label:
    scores = {"angry": _hits(text, ANGRY), "anxious": _hits(text, ANXIOUS),
              "disappointed": _hits(text, DISAPPOINTED)}
    label, hits = max(scores.items(), key=lambda kv: kv[1])
    if hits == 0:
        return Label("neutral", 0.6)
    return Label(label, min(0.6 + 0.15 * hits, 0.9))


def is_urgent(text: str) -> bool:
    return _hits(text, URGENT) > 0


def classify(text: str, reason: str, category: str | None, category_confidence: float) -> dict[str, Any]:
    mood = emotion(text)
    special = _hits(text, SPECIAL) > 0
    if reason == "urgent" or is_urgent(text):
        priority = Label("urgent", 0.8)
    elif reason == "complaint" or mood.label == "angry" or _hits(text, REPEAT) or special:
        priority = Label("high", 0.7)
    else:
        priority = Label("normal", 0.6)
    if special:
        complexity = Label("special", 0.7)
    elif reason in ("urgent", "complaint", "no_answer", "unhelpful"):
        complexity = Label("complex", 0.6)
    else:
        complexity = Label("simple", 0.55)
    return {
        "category": Label(category or "other", category_confidence if category else 0.3).to_json(),
        "priority": priority.to_json(),
        "complexity": complexity.to_json(),
        "emotion": mood.to_json(),
        "is_complaint": reason == "complaint",
        "method": "rules",
    }
