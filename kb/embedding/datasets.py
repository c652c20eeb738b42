"""Loaders for the Chinese sentence-pair corpora in ../shared/datasets.

Each reader handles one file format and returns normalised ``(s1, s2, label)`` triples, so the
model sees text exactly as search will present it at query time (see kb.text.normalize).
`training_pairs` and `eval_sets` decide which files are used for what: evaluation splits are
never trained on, and training pairs that also occur in an evaluation split are dropped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kb.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATASETS = ROOT.parent / "shared" / "datasets"
DEMO_KB = ROOT / "kb" / "demo" / "telecom_kb.yaml"

Pair = tuple[str, str, float]
Triplet = tuple[str, str, str]


@lru_cache(maxsize=500_000)
def norm(text: str) -> str:
    """Cached: the same sentence recurs across many pairs in these corpora."""
    return normalize(text.replace("\ufeff", ""))


def _pairs(rows: Iterable[tuple[str, str, object]], label_map: dict[str, float] | None = None) -> list[Pair]:
    out: list[Pair] = []
    for s1, s2, raw in rows:
        raw = str(raw).strip()
        label = label_map.get(raw) if label_map is not None else float(raw)
        if label is None:
            continue
        a, b = norm(s1), norm(s2)
        if a and b:
            out.append((a, b, label))
    return out


def read_tsv(path: Path, cols: tuple[int, int, int] = (0, 1, 2), header: bool = False,
             label_map: dict[str, float] | None = None) -> list[Pair]:
    """Tab-separated pairs (LCQMC, AFQMC, OPPO, STS-B, NLI, PAWS-X, ATEC). Reading with
    newline='' plus stripping handles CRLF files; stray BOMs are removed by `norm`."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = fh.read().splitlines()
    for i, line in enumerate(lines):
        if (header and i == 0) or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) <= max(cols):
            continue
        rows.append((parts[cols[0]], parts[cols[1]], parts[cols[2]]))
    return _pairs(rows, label_map)


def read_csv(path: Path) -> list[Pair]:
    """Comma-separated with a header and a BOM (BQ corpus); sentences may contain commas, so a
    real CSV parser is needed."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [(r["sentence1"], r["sentence2"], r["label"]) for r in reader]
    return _pairs(rows)


def read_json_array(path: Path, k1: str, k2: str, klabel: str,
                    label_map: dict[str, float] | None = None) -> list[Pair]:
    """A JSON array of objects (CBLUE: CHIP-STS, KUAKE-QQR)."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    return _pairs(((d[k1], d[k2], d[klabel]) for d in items), label_map)


def _json_lines(path: Path) -> list[dict]:
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def read_jsonl(path: Path, k1: str, k2: str, klabel: str | None = None,
               label_map: dict[str, float] | None = None) -> list[Pair]:
    """JSON lines (SimCLUE). Without `klabel` every row is a positive pair."""
    return _pairs(((d[k1], d[k2], d[klabel] if klabel else 1) for d in _json_lines(path)), label_map)


def read_jsonl_triplets(path: Path, ka: str, kp: str, kn: str) -> list[Triplet]:
    """(anchor, positive, hard negative) rows (SimCLUE train_rank)."""
    out = []
    for d in _json_lines(path):
        a, p, n = norm(d[ka]), norm(d[kp]), norm(d[kn])
        if a and p and n:
            out.append((a, p, n))
    return out


def read_triclue(path: Path) -> list[Triplet]:
    """SimCLUE triclue: `label` (1 or 2) says which of sentence_1/sentence_2 is closer to sentence_0."""
    out = []
    for d in _json_lines(path):
        pos, neg = (d["sentence_1"], d["sentence_2"]) if int(d["label"]) == 1 else (d["sentence_2"], d["sentence_1"])
        a, p, n = norm(d["sentence_0"]), norm(pos), norm(neg)
        if a and p and n:
            out.append((a, p, n))
    return out


def nli_triplets(pairs: list[Pair]) -> list[Triplet]:
    """(premise, entailment, contradiction) from NLI pairs labelled 1 / 0 (neutral dropped)."""
    by_premise: dict[str, tuple[list[str], list[str]]] = {}
    for p, h, label in pairs:
        ent, con = by_premise.setdefault(p, ([], []))
        (ent if label == 1 else con).append(h)
    return [(p, e, c) for p, (ents, cons) in by_premise.items() for e, c in zip(ents, cons, strict=False)]


def read_kb_pairs(path: Path = DEMO_KB) -> list[Pair]:
    """Positives from a KB file: each entry's standard question with each similar question."""
    from kb.interchange import parse_file

    out: list[Pair] = []
    for rec in parse_file(path).records:
        q = norm(rec.question)
        for s in rec.similar_questions:
            if q and norm(s):
                out.append((q, norm(s), 1.0))
    return out


NLI_LABELS = {"entailment": 1.0, "contradiction": 0.0}


# ---- which files are evaluation and which are training ----

def eval_sets(root: Path = DEFAULT_DATASETS) -> dict[str, list[Pair]]:
    """Held-out sets, never trained on."""
    return {
        "LCQMC-test": read_tsv(root / "LCQMC" / "test.txt"),
        "BQ-test": read_csv(root / "BQ_corpus" / "test.csv"),
        "AFQMC-dev": read_tsv(root / "AFQMC" / "dev.txt"),
        "PAWSX-test": read_tsv(root / "PAWS-X-zh" / "test_2k.tsv", cols=(1, 2, 3), header=True),
    }


@dataclass
class TrainingData:
    """Labelled pairs per source (for CoSENT), plus positives and triplets (for MNRL)."""

    labelled: dict[str, list[Pair]] = field(default_factory=dict)
    triplets: dict[str, list[Triplet]] = field(default_factory=dict)
    positives: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    dropped_overlap: int = 0

    def sizes(self) -> dict[str, dict[str, int]]:
        return {kind: {k: len(v) for k, v in getattr(self, kind).items()}
                for kind in ("labelled", "triplets", "positives")}

    def sentences(self) -> list[str]:
        out: list[str] = []
        groups: list[Sequence[tuple[object, ...]]] = [
            *self.labelled.values(), *self.triplets.values(), *self.positives.values()]
        for rows in groups:
            for row in rows:
                out.extend(x for x in row if isinstance(x, str))
        return out


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def training_data(root: Path = DEFAULT_DATASETS, kb_path: Path | None = DEMO_KB) -> TrainingData:
    """Every train/dev split we may learn from. ATEC is left out (it shares 1,682 pairs with
    AFQMC dev); ATEC_CCKS dev is kept but pairs overlapping any evaluation pair are dropped."""
    held_out = {_key(a, b) for rows in eval_sets(root).values() for a, b, _ in rows}
    data = TrainingData()

    labelled = {
        "LCQMC-dev": read_tsv(root / "LCQMC" / "dev.txt"),
        "BQ-dev": read_csv(root / "BQ_corpus" / "dev.csv"),
        "AFQMC-train": read_tsv(root / "AFQMC" / "train.txt"),
        "ATEC_CCKS-dev": read_tsv(root / "ATEC_CCKS" / "dev.csv", header=True),
        "OPPO-dev": read_tsv(root / "OPPO-xiaobu" / "dev.txt"),
        "PAWSX-dev": read_tsv(root / "PAWS-X-zh" / "dev_2k.tsv", cols=(1, 2, 3), header=True),
        "CHIP-STS": read_json_array(root / "CHIP-STS" / "CHIP-STS_train.json", "text1", "text2", "label")
        + read_json_array(root / "CHIP-STS" / "CHIP-STS_dev.json", "text1", "text2", "label"),
        # 2 = equivalent; 1 (narrower) and 0 (broader/unrelated) are both "not the same question".
        "KUAKE-QQR": read_json_array(root / "KUAKE-QQR" / "KUAKE-QQR_train.json", "query1", "query2", "label",
                                     {"2": 1.0, "1": 0.0, "0": 0.0})
        + read_json_array(root / "KUAKE-QQR" / "KUAKE-QQR_dev.json", "query1", "query2", "label",
                          {"2": 1.0, "1": 0.0, "0": 0.0}),
        "SimCLUE-pair": read_jsonl(root / "SimCLUE" / "train_pair_1w.json", "sentence1", "sentence2", "label"),
        # STS-B scores 0-5 rescaled to 0-1; CoSENT only uses their order.
        "STS-B": [(a, b, s / 5) for a, b, s in read_tsv(root / "Chinese-STS-B" / "sts-b-train.txt")
                  + read_tsv(root / "Chinese-STS-B" / "sts-b-dev.txt")],
    }
    nli = {
        "SNLI-dev": read_tsv(root / "Chinese-SNLI" / "dev.txt", label_map=NLI_LABELS),
        "CMNLI-dev": read_tsv(root / "Chinese-MNLI" / "dev.txt", label_map=NLI_LABELS),
        "OCNLI-dev": read_tsv(root / "OCNLI" / "dev.txt", label_map=NLI_LABELS),
    }
    triplets = {
        "SimCLUE-rank": read_jsonl_triplets(root / "SimCLUE" / "train_rank_1w.json", "query", "title", "neg_title"),
        "SimCLUE-triclue": read_triclue(root / "SimCLUE" / "triclue_small" / "train.json")
        + read_triclue(root / "SimCLUE" / "triclue_small" / "dev.json"),
        "NLI": [t for rows in nli.values() for t in nli_triplets(rows)],
    }
    positives = {
        "SimCLUE-positive": [(a, b) for a, b, _ in read_jsonl(
            root / "SimCLUE" / "train_pair_postive_1w.json", "query", "title")],
    }
    if kb_path is not None:
        positives["demo-KB"] = [(a, b) for a, b, _ in read_kb_pairs(kb_path)]

    def keep(a: str, b: str) -> bool:
        return _key(a, b) not in held_out

    for name, scored_pairs in labelled.items():
        kept_pairs = [r for r in scored_pairs if keep(r[0], r[1])]
        data.dropped_overlap += len(scored_pairs) - len(kept_pairs)
        data.labelled[name] = kept_pairs
    for name, triplet_rows in triplets.items():
        kept_triplets = [r for r in triplet_rows if keep(r[0], r[1]) and keep(r[0], r[2])]
        data.dropped_overlap += len(triplet_rows) - len(kept_triplets)
        data.triplets[name] = kept_triplets
    for name, positive_pairs in positives.items():
        kept_positives = [r for r in positive_pairs if keep(r[0], r[1])]
        data.dropped_overlap += len(positive_pairs) - len(kept_positives)
        data.positives[name] = kept_positives
    return data
