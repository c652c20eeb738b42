"""spaCy text processing for tickets: Chinese segmentation (jieba) plus rule patterns for
amounts, dates, phone tails, and urgency / emotion / escalation cues."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

import spacy
from spacy.matcher import PhraseMatcher

from kb.text.normalize import normalize

AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块|rmb|RMB)")
DATE = re.compile(r"\d{1,2}月\d{1,2}[日号]|\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
                  r"|(?:今天|昨天|前天|上周|上个月|这个月|本月|月初|月底)")
PHONE_TAIL = re.compile(r"尾号\s*(\d{3,4})")

CUES: dict[str, tuple[str, ...]] = {
    "urgent": ("被骗", "诈骗", "骗子", "转账", "盗刷", "被盗", "盗号", "冒用", "全断", "都断了", "整个小区",
               "整栋", "一片", "公司断网", "数据丢", "联系不上", "紧急", "报警", "马上", "立刻", "被人登",
               "异地登录", "密码被改", "一直在扣", "全没了", "丢失", "弄死", "威胁"),
    "angry": ("气死", "垃圾", "什么破", "骗子", "坑", "太过分", "无语", "恶心", "忍无可忍", "受够", "离谱",
              "凭什么", "有病", "滚", "投诉你们", "！！", "!!", "?!", "？！"),
    "anxious": ("着急", "急", "怎么办", "担心", "害怕", "赶紧", "尽快", "快点", "慌"),
    "disappointed": ("失望", "又", "还是", "算了", "每次", "白等", "没用", "无奈", "唉"),
    "positive": ("谢谢", "感谢", "辛苦", "满意", "点赞", "太好了", "很好"),
    "complaint": ("投诉", "赔偿", "说法", "曝光", "退钱", "要求", "态度", "不负责", "怎么搞的", "追责",
                  "12315", "工信部", "消协", "消费者协会", "媒体", "说一套做一套"),
    "special": ("律师", "起诉", "法院", "12315", "工信部", "媒体", "记者", "微博", "曝光", "VIP", "vip",
                "集团客户", "企业客户"),
    "repeat": ("第二次", "第三次", "好几次", "多次", "反复", "一直没人", "又来", "又", "再次", "三回",
               "好几回", "已经问了", "之前问过", "上次"),
}


@dataclass
class Analysis:
    tokens: list[str]
    amounts: list[float] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    phone_tails: list[str] = field(default_factory=list)
    cues: dict[str, int] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)

    def features(self) -> dict[str, float]:
        feats = {f"cue_{k}": float(min(v, 3)) for k, v in self.cues.items()}
        feats["has_amount"] = float(bool(self.amounts))
        feats["large_amount"] = float(any(a >= 1000 for a in self.amounts))
        feats["has_date"] = float(bool(self.dates))
        feats["has_phone_tail"] = float(bool(self.phone_tails))
        return feats


@lru_cache(maxsize=1)
def _nlp():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    matcher = PhraseMatcher(nlp.vocab)
    for name, phrases in CUES.items():
        matcher.add(name, [nlp.make_doc(p) for p in phrases])
    return nlp, matcher


@lru_cache(maxsize=1)
def _domain_terms() -> frozenset[str]:
    from kb.text.tokenize import USER_DICT

    return frozenset(line.split()[0] for line in USER_DICT.read_text("utf-8").splitlines() if line.strip())


@lru_cache(maxsize=512)  # features and keywords analyse the same text; do the work once
def analyse(text: str) -> Analysis:
    normalised = normalize(text)
    nlp, matcher = _nlp()
    doc = nlp(normalised)
    cues = {name: 0 for name in CUES}
    for match_id, _, _ in matcher(doc):
        cues[nlp.vocab.strings[match_id]] += 1
    # Cue phrases jieba splits differently than the phrase list are still counted.
    for name, phrases in CUES.items():
        if cues[name] == 0:
            cues[name] = sum(1 for p in phrases if p.lower() in normalised or p in text)
    amounts = [float(m.group(1)) for m in AMOUNT.finditer(text)]
    dates = DATE.findall(text)
    tails = PHONE_TAIL.findall(text)
    terms = _domain_terms()
    keywords = list(dict.fromkeys(t.text for t in doc if t.text in terms))
    keywords += [f"{a:g}元" for a in amounts] + dates + [f"尾号{t}" for t in tails]
    return Analysis([t.text for t in doc], amounts, dates, tails, cues, keywords[:12])
