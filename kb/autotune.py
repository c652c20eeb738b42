"""Calibration that fits the KB it serves, from what the KB holds: no labelled queries.

Run when an index is built (import, `kb reindex`, and a publish once the KB has drifted from
what the current calibration was fitted on, `still_fits`) unless a labelled calibration from
`kb tune` was fitted on this same KB. The procedure:

1. **Probe indexes.** Copies of the KB with material held out, searched like the real one
   (up to `MAX_ROUNDS`, other material each time, until `TARGET_PSEUDO_QUERIES` in scope):
   - one similar question of most entries is taken out of its entry and becomes a
     pseudo-query whose answer is that entry (plus a copy with phone-keyboard noise: a
     character dropped, doubled or swapped);
   - a share of whole entries is left out, and their questions become out-of-scope
     pseudo-queries: questions of the same domain that nothing in the probe answers;
   - out-of-scope questions from the shipped pool (kb/calibration_data/out_of_scope.txt:
     chit-chat, other industries, service questions no FAQ answers), searched once.
2. **The general calibration's models** (kb/general_calibration.py: ranker, confidence,
   clarify), fitted across many KBs, are kept; fitted on pseudo-queries alone they were
   unstable from KB to KB.
3. **Thresholds from the pseudo-queries** (kb.tuning.fit): the answer threshold is the
   general one unless pseudo-queries answered at it are too often wrong (a KB of
   near-duplicate entries), the clarify threshold the lowest that hands off the target share
   of the out-of-scope mix `OOS_MIX`.

The result is saved with the index, so every replica that loads the index uses it.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import Settings
from kb.evaluation import EvalQuery
from kb.search.calibration import Calibrator
from kb.search.engine import SearchEngine, configured_calibrator

OUT_OF_SCOPE_POOL = Path(__file__).resolve().parent / "calibration_data" / "out_of_scope.txt"
SEED = 0
HELD_OUT_ENTRY_SHARE = 0.15  # whole entries left out of the probe index: same-domain out-of-scope
MAX_IN_SCOPE = 1500  # pseudo-queries at most (large KBs are sampled), so a build stays fast
NOISY_COPY_SHARE = 0.5
DOMAIN_OOS_DIVISOR = 4  # same-domain out-of-scope pseudo-queries: one per this many in-scope ones
MIN_ENTRIES = 8
TARGET_PSEUDO_QUERIES = 400  # in-scope pseudo-queries wanted; small KBs pool several probes
MAX_ROUNDS = 4
OOS_MIX = {"oos_pool": 2 / 3, "oos_left_out_entry": 1 / 3}


@dataclass
class _ProbeEntry:
    """The fields SearchEngine.build reads from a store entry."""

    id: str
    question: str
    similar_questions: list[str]
    answer: str
    category: str
    channels: dict[str, str] = field(default_factory=dict)
    version: int = 1


def labelled_applies(calibrator: Calibrator, ids: Sequence[str]) -> bool:
    """A `kb tune` calibration serves the KB it was tuned on: the ids it recorded must cover
    at least 90 % of this KB's entries (editing or adding a few entries keeps it)."""
    return _covers(calibrator.provenance.get("kb_ids"), ids, both_ways=False)


def _keyboard_noise(text: str, rng: random.Random) -> str:
    """A copy as a hurried customer types it: one character dropped, doubled or swapped."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def out_of_scope_pool() -> list[str]:
    if not OUT_OF_SCOPE_POOL.is_file():
        return []
    return [line.strip() for line in OUT_OF_SCOPE_POOL.read_text("utf-8").splitlines() if line.strip()]


def probe_material(entries: Sequence[Any], seed: int = SEED,
                   with_pool: bool = True) -> tuple[list[_ProbeEntry], list[EvalQuery]]:
    """The probe index's entries and the pseudo-queries searched against it (the shipped
    out-of-scope pool too, with `with_pool`: one probe's worth of it is enough)."""
    rng = random.Random(seed)
    order = sorted(entries, key=lambda e: e.id)
    rng.shuffle(order)
    n_out = int(len(order) * HELD_OUT_ENTRY_SHARE)
    left_out, kept = order[:n_out], order[n_out:]
    probe: list[_ProbeEntry] = []
    in_scope: list[EvalQuery] = []
    for e in kept:
        similar = [q for q in (e.similar_questions or []) if q.strip()]
        if similar:
            held = rng.randrange(len(similar))
            query = similar.pop(held)
            in_scope.append(EvalQuery(0, query, e.id, "held_out"))
            if rng.random() < NOISY_COPY_SHARE:
                in_scope.append(EvalQuery(0, _keyboard_noise(query, rng), e.id, "held_out_noisy"))
        probe.append(_ProbeEntry(e.id, e.question, similar, e.answer, e.category,
                                 dict(getattr(e, "channels", None) or {}), getattr(e, "version", 1)))
    if len(in_scope) > MAX_IN_SCOPE:
        in_scope = rng.sample(in_scope, MAX_IN_SCOPE)
    domain_oos = []
    for e in left_out:
        questions = [e.question, *(e.similar_questions or [])]
        domain_oos.append(EvalQuery(0, rng.choice(questions), None, "oos_left_out_entry"))
    pool = out_of_scope_pool()
    # All of it, once: the clarify threshold rests on this share.
    general_oos = [EvalQuery(0, q, None, "oos_pool") for q in pool] if with_pool else []
    queries = in_scope + domain_oos[: max(10, len(in_scope) // DOMAIN_OOS_DIVISOR)] + general_oos
    return probe, [EvalQuery(i + 1, q.query, q.expected_id, q.style) for i, q in enumerate(queries)]


def self_calibrate(entries: Sequence[Any], settings: Settings) -> Calibrator | None:
    """A calibration fitted to this KB from its own content; None when the KB is too small
    or has no held-out material (the configured file is used then). Small KBs give few
    pseudo-queries per probe index, so several probes (other questions and entries held out
    each time) are pooled until about `TARGET_PSEUDO_QUERIES` are in scope."""
    from kb.tuning import collect, fit

    if len(entries) < MIN_ENTRIES:
        return None
    per_query = []
    rounds = 0
    while rounds < MAX_ROUNDS:
        probe, queries = probe_material(entries, seed=SEED + rounds, with_pool=rounds == 0)
        if sum(1 for q in queries if q.expected_id) < 5:
            break
        engine = SearchEngine.build(probe, settings, calibrator=Calibrator())
        per_query += collect(engine, queries)
        rounds += 1
        if sum(1 for q, _, _ in per_query if q.expected_id) >= TARGET_PSEUDO_QUERIES:
            break
    if not per_query:
        return None
    ranker = confidence = clarify_model = None
    general = Calibrator.load(settings.general_calibration_file)
    if settings.general_calibration_file.is_file():  # fitted across many KBs (kb.general_calibration)
        ranker = general.ranker if settings.auto_calibration_keep_ranker else None
        confidence = general.confidence_model if settings.auto_calibration_keep_confidence else None
        clarify_model = general.clarify_model if settings.auto_calibration_keep_confidence else None
    floor = general.thresholds.answer if confidence is not None else None
    calibrator = fit(per_query, settings.auto_answer_pseudo_precision if floor is not None
                     else settings.tune_answer_precision, settings.tune_oos_recall,
                     source="self: the KB's held-out questions and the shipped out-of-scope pool",
                     ranker=ranker,
                     # What customers ask outside a KB: mostly what no FAQ answers (the shipped
                     # pool), a third about the KB's own domain (entries left out of the probe).
                     oos_mix=OOS_MIX,
                     clarify_at_oos_target=True, confidence_model=confidence, answer_floor=floor,
                     clarify_model=clarify_model)
    styles = sorted({q.style or "" for q, _, _ in per_query})
    calibrator.provenance.update(
        pseudo_queries={s: sum(1 for q, _, _ in per_query if q.style == s) for s in styles},
        probe_rounds=rounds,
        kb_entries=len(entries),
        calibrated_ids=sorted(e.id for e in entries),
    )
    return calibrator


def choose_calibrator(entries: Sequence[Any], settings: Settings) -> Calibrator:
    """The labelled calibration when it was tuned on this KB, else one fitted to the KB."""
    configured = configured_calibrator(settings)
    if not settings.auto_calibration or labelled_applies(configured, [e.id for e in entries]):
        return configured
    return self_calibrate(entries, settings) or configured


def still_fits(calibrator: Calibrator, ids: Sequence[str]) -> bool:
    """A calibration fitted to this KB's content still serves it while 90 % of the entries on
    either side are the same: publishing one entry does not recalibrate (a new calibration
    for a one-entry change is noise, and it would delay the entry's arrival in search)."""
    return _covers(calibrator.provenance.get("calibrated_ids"), ids, both_ways=True)


def _covers(fitted: Sequence[str] | None, ids: Sequence[str], both_ways: bool) -> bool:
    """90 % of this KB's entries are among those a calibration was fitted on (and, with
    `both_ways`, 90 % of those are still in the KB)."""
    if not fitted or not ids:
        return False
    shared, here, there = len(set(ids) & set(fitted)), len(set(ids)), len(set(fitted))
    return shared >= 0.9 * (max(here, there) if both_ways else here)
