"""NLU intent accuracy on a held-out split of training_data/nlu.yml.

Usage: python bench/nlu_eval.py [--out bench/results/nlu.json]

Splits the NLU data 80/20 per intent with a fixed seed (`rasa data split nlu`), trains the
NLU pipeline of bot/config.yml on the 80 %, evaluates on the 20 % (`rasa test nlu`) and
writes accuracy, macro-F1 and the intents most often confused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.settings import get_settings
from stack.rasa_model import BOT_DIR, DATA_DIR, rasa_bin, rasa_env, write_kb_faq_examples

ROOT = Path(__file__).resolve().parent.parent


def rasa(*args: str, cwd: Path) -> None:
    subprocess.run([str(rasa_bin()), *args], check=True, env=rasa_env(), cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "nlu.json")
    parser.add_argument("--nlu", type=Path, default=DATA_DIR / "nlu.yml", help="NLU data to split")
    parser.add_argument("--without-kb", action="store_true", help="leave out the KB-generated ask_faq examples")
    parser.add_argument("--config", type=Path, default=BOT_DIR / "config.yml", help="pipeline to evaluate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rasa("data", "split", "nlu", "--nlu", str(args.nlu), "--training-fraction", "0.8",
             "--random-seed", "42", "--out", str(work / "split"), cwd=work)
        # Train on the split's 80 % plus the ask_faq examples generated from the KB, exactly
        # as the product trains; test only on held-out hand-written examples.
        train = work / "train"
        train.mkdir()
        (work / "split" / "training_data.yml").rename(train / "training_data.yml")
        if not args.without_kb:
            kb_examples = write_kb_faq_examples(get_settings())
            (train / "faq_from_kb.yml").write_text(kb_examples.read_text("utf-8"), "utf-8")
        test = work / "split" / "test_data.yml"
        started = time.perf_counter()
        rasa("train", "nlu", "--config", str(args.config), "--nlu", str(train),
             "--out", str(work / "models"), "--fixed-model-name", "nlu", cwd=work)
        train_s = time.perf_counter() - started
        rasa("test", "nlu", "--model", str(work / "models" / "nlu.tar.gz"), "--nlu", str(test),
             "--out", str(work / "results"), "--no-plot", cwd=work)
        report = json.loads((work / "results" / "intent_report.json").read_text("utf-8"))
        errors = json.loads((work / "results" / "intent_errors.json").read_text("utf-8")) \
            if (work / "results" / "intent_errors.json").exists() else []
    per_intent = {k: {"f1": round(v["f1-score"], 3), "support": v["support"]}
                  for k, v in report.items() if isinstance(v, dict) and "support" in v
                  and k not in ("macro avg", "weighted avg", "micro avg")}
    result = {
        "benchmark": "NLU intent classification (held-out 20 %)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "test_examples": int(report["macro avg"]["support"]),
        "kb_generated_faq_examples": not args.without_kb,
        "train_seconds": round(train_s, 1),
        "per_intent": per_intent,
        "errors": [{"text": e["text"], "expected": e["intent"], "predicted": e["intent_prediction"]["name"]}
                   for e in errors],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"NLU accuracy {result['accuracy']}  macro-F1 {result['macro_f1']} on "
          f"{result['test_examples']} held-out examples → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
