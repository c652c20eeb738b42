"""The general calibration: a ranker and confidence model fitted across many knowledge bases,
the starting point every KB's own calibration (kb/autotune.py) adapts.

    .venv/bin/python -m kb.general_calibration [--out config/search_calibration_general.json]

The demo KB's labelled dev split is one KB in one hand; a model fitted on it alone learns that
KB's quirks (how many similar questions its entries have, how its out-of-scope questions look).
Here the material is:

- **ten synthetic KBs** from the held-out part of the paraphrase corpus
  (kb/embedding/paraphrases, the groups `is_calibration_group` keeps out of the embedding
  model's training): two industries per KB; each group an entry whose first question is the
  standard question and the next two its similar questions (as FAQ sheets have), the rest
  (indirect, long, typo, Traditional) the customers' queries; a fifth of the groups left out
  of the KB, their questions out-of-scope queries of the same domain; questions of the other
  KBs' industries and the shipped out-of-scope pool as the rest of the out-of-scope queries;
- **the demo KB's dev split**: real labelled queries.

Everything goes through `kb tune`'s procedure (kb.tuning.fit) in one pool. The result is
written beside the demo KB's own calibration and read by kb.autotune.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import CONFIG_DIR, Settings
from kb.autotune import out_of_scope_pool
from kb.embedding.paraphrase_pairs import calibration_groups, read_groups
from kb.evaluation import EvalQuery, read_queries
from kb.interchange import parse_file
from kb.search.calibration import Calibrator
from kb.search.engine import SearchEngine
from kb.tuning import Labelled, collect, fit

GENERAL_CALIBRATION = CONFIG_DIR / "search_calibration_general.json"
SEED = 0
KB_QUESTIONS = 3  # standard + two similar questions; the rest of a group are queries
LEFT_OUT_SHARE = 0.2
OTHER_INDUSTRY_QUERIES = 40
POOL_QUERIES = 120


@dataclass
class _Entry:
    id: str
    question: str
    similar_questions: list[str]
    answer: str
    category: str = "other"
    channels: dict[str, str] = field(default_factory=dict)
    version: int = 1


def synthetic_kbs(groups: list[dict], seed: int = SEED) -> list[tuple[str, list[_Entry], list[EvalQuery]]]:
    """(name, entries, queries) per pair of industries."""
    rng = random.Random(seed)
    industries = sorted({g["industry"] for g in groups})
    by_industry = {i: [g for g in groups if g["industry"] == i] for i in industries}
    pool = out_of_scope_pool()
    kbs = []
    for k in range(0, len(industries), 2):
        names = industries[k:k + 2]
        members = [g for i in names for g in by_industry[i]]
        rng.shuffle(members)
        n_out = int(len(members) * LEFT_OUT_SHARE)
        left_out, kept = members[:n_out], members[n_out:]
        entries, queries = [], []
        for n, g in enumerate(kept):
            qs = g["questions"]
            entry_id = f"{'-'.join(names)}-{n:03d}"
            entries.append(_Entry(entry_id, qs[0], qs[1:KB_QUESTIONS], qs[0]))
            queries += [EvalQuery(0, q, entry_id, "corpus") for q in qs[KB_QUESTIONS:]]
        queries += [EvalQuery(0, rng.choice(g["questions"]), None, "oos_domain") for g in left_out]
        others = [q for g in groups if g["industry"] not in names for q in g["questions"][KB_QUESTIONS:]]
        queries += [EvalQuery(0, q, None, "oos_other_industry") for q in rng.sample(others, OTHER_INDUSTRY_QUERIES)]
        queries += [EvalQuery(0, q, None, "oos_pool") for q in rng.sample(pool, min(POOL_QUERIES, len(pool)))]
        kbs.append(("+".join(names), entries, queries))
    return kbs


def general_material(settings: Settings) -> tuple[Labelled, dict[str, Any]]:
    per_query: Labelled = []
    sizes: dict[str, Any] = {}
    for name, entries, queries in synthetic_kbs(calibration_groups(read_groups())):
        engine = SearchEngine.build(entries, settings, calibrator=Calibrator())
        per_query += collect(engine, queries)
        sizes[name] = {"entries": len(entries), "queries": len(queries)}
    demo = SearchEngine.build(parse_file(settings.demo_kb_file).records, settings, calibrator=Calibrator())
    dev = read_queries(Path(settings.demo_kb_file).parent / "eval" / "dev.jsonl")
    per_query += collect(demo, dev)
    sizes["demo dev"] = {"entries": len(demo.entries), "queries": len(dev)}
    return per_query, sizes


def fit_general(settings: Settings) -> Calibrator:
    per_query, sizes = general_material(settings)
    calibrator = fit(per_query, settings.tune_answer_precision, settings.tune_oos_recall,
                     source="general: held-out paraphrase-corpus KBs and the demo dev split",
                     clarify_at_oos_target=True)
    calibrator.provenance["kbs"] = sizes
    return calibrator


def main() -> int:
    parser = argparse.ArgumentParser(description="Fit the general search calibration")
    parser.add_argument("--out", type=Path, default=GENERAL_CALIBRATION)
    args = parser.parse_args()
    calibrator = fit_general(Settings())
    calibrator.save(args.out)
    print(f"general calibration written to {args.out}: answer ≥ {calibrator.thresholds.answer}, "
          f"clarify ≥ {calibrator.thresholds.clarify}; ranker top-1 (cross-validated) "
          f"{calibrator.provenance['ranker_cv_top1']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
