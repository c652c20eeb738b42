"""Train the Chinese static sentence-embedding model from scratch on CPU.

    .venv/bin/python -m kb.embedding.train --out kb/embedding/model [--datasets DIR] [--seed 0]

Needs the train extra (torch, sentence-transformers): pip install -e '.[train]'.

Recipe: a StaticEmbedding (mean of per-token vectors; tokens are characters, optionally plus
frequent jieba words, see kb.embedding.tokenizer) trained with two sentence-transformers losses in one
loop: CoSENT on labelled pairs (it ranks pair similarities against each other, which is what
the Spearman metric measures) and MultipleNegativesRankingLoss on positive pairs and triplets
(in-batch negatives spread unrelated questions apart). Each batch comes from one source, so
CoSENT compares pairs of one domain and MNRL's in-batch negatives are not trivially easy.
A plain loop over pre-tokenised ids is used instead of SentenceTransformerTrainer: the model is
so cheap that the trainer's per-batch data handling would dominate the run time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from kb.embedding.card import write_model_card
from kb.embedding.datasets import DEFAULT_DATASETS, DEMO_KB, TrainingData, training_data
from kb.embedding.finetune import finetune_on_pairs
from kb.embedding.paraphrase_pairs import CORPUS_DIR as PARAPHRASES
from kb.embedding.sentence_table import NO_LABELS, SentenceTable
from kb.embedding.tokenizer import build_tokenizer, build_vocab

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@dataclass
class Recipe:
    dim: int = 256
    epochs: float = 10.0
    lr: float = 0.05
    warmup: float = 0.05  # fraction of steps
    cosent_batch: int = 256
    mnrl_batch: int = 256
    cosent_scale: float = 20.0
    mnrl_scale: float = 20.0
    # Sparse gradients + SparseAdam update only the rows a batch touched: worth it for a large
    # word vocabulary, but measured slower than dense Adam for the 5k-character table.
    sparse: bool = False
    use_cosent: bool = True
    use_mnrl: bool = True
    # MNRL also learns from the positives of the labelled sets (label >= 0.8).
    mnrl_from_labelled: bool = True
    min_char_freq: int = 1
    min_word_freq: int = 3
    max_words: int = 0  # characters only measured best; see the model card


def _batches(rows: list, size: int, rng: random.Random) -> list[list]:
    rows = rows[:]
    rng.shuffle(rows)
    # Drop a short tail: CoSENT and MNRL both get weaker with few in-batch comparisons.
    return [rows[i:i + size] for i in range(0, len(rows) - size // 2, size)]


def _tasks(data: TrainingData, recipe: Recipe) -> list[tuple[str, str, list]]:
    """(loss, source, rows) for each source used by the recipe."""
    tasks: list[tuple[str, str, list]] = []
    if recipe.use_cosent:
        tasks += [("cosent", name, rows) for name, rows in data.labelled.items()]
    if recipe.use_mnrl:
        tasks += [("mnrl", name, rows) for name, rows in data.triplets.items()]
        tasks += [("mnrl", name, rows) for name, rows in data.positives.items()]
        if recipe.mnrl_from_labelled:
            tasks += [("mnrl", name + "+", [(a, b) for a, b, y in rows if y >= 0.8])
                      for name, rows in data.labelled.items()]
    return [t for t in tasks if t[2]]


def build_model(tokenizer, dim: int):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=dim)], device="cpu")


def train(datasets_dir: Path = DEFAULT_DATASETS, recipe: Recipe | None = None, seed: int = 0,
          log=print) -> tuple[SentenceTransformer, dict]:
    """Build the tokenizer, train, and return (model, stats)."""
    from sentence_transformers.sentence_transformer.losses import CoSENTLoss, MultipleNegativesRankingLoss

    recipe = recipe or Recipe()
    started = time.perf_counter()
    torch.set_num_threads(2)
    # Adam's moment estimates of rarely seen tokens decay into subnormal floats, which the CPU
    # handles ~100x slower; flushing them to zero keeps late epochs as fast as early ones.
    torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    rng = random.Random(seed)

    data = training_data(datasets_dir)
    sentences = sorted(set(data.sentences()))
    log(f"data: {len(sentences)} distinct sentences, {data.sizes()}, dropped {data.dropped_overlap} eval overlaps")
    vocab = build_vocab(sentences, recipe.min_char_freq, recipe.min_word_freq, recipe.max_words)
    tokenizer = build_tokenizer(vocab)
    table = SentenceTable(tokenizer, sentences)
    log(f"vocab: {len(vocab)} tokens ({sum(len(t) > 1 for t in vocab) - 1} words); "
        f"{time.perf_counter() - started:.0f}s")

    model = build_model(tokenizer, recipe.dim)
    model[0].embedding.sparse = recipe.sparse
    cosent = CoSENTLoss(model, scale=recipe.cosent_scale)
    mnrl = MultipleNegativesRankingLoss(model, scale=recipe.mnrl_scale)
    tasks = _tasks(data, recipe)

    def epoch_plan() -> list[tuple[str, list]]:
        plan = []
        for loss, _, rows in tasks:
            size = recipe.cosent_batch if loss == "cosent" else recipe.mnrl_batch
            plan += [(loss, b) for b in _batches(rows, size, rng)]
        rng.shuffle(plan)
        return plan

    plans = [epoch_plan() for _ in range(math.ceil(recipe.epochs))]
    steps = [s for p in plans for s in p][: int(len(plans[0]) * recipe.epochs)]
    optimizer = (torch.optim.SparseAdam if recipe.sparse else torch.optim.Adam)(model.parameters(), lr=recipe.lr)
    warmup = max(1, int(len(steps) * recipe.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min((i + 1) / warmup, max(0.0, (len(steps) - i) / (len(steps) - warmup))))
    log(f"training: {len(steps)} steps ({len(plans[0])} per epoch) over {len(tasks)} tasks; "
        f"{time.perf_counter() - started:.0f}s")

    model.train()
    running: dict[str, list[float]] = {"cosent": [], "mnrl": []}
    for i, (loss_name, rows) in enumerate(steps):
        columns = list(zip(*rows, strict=True))
        embeddings = [model(table.features(list(col)))["sentence_embedding"]
                      for col in (columns[:2] if loss_name == "cosent" else columns)]
        if loss_name == "cosent":
            loss = cosent.compute_loss_from_embeddings(embeddings, torch.tensor(columns[2], dtype=torch.float32))
        else:
            loss = mnrl.compute_loss_from_embeddings(embeddings, NO_LABELS)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running[loss_name].append(loss.item())
        if (i + 1) % 200 == 0 or i + 1 == len(steps):
            means = {k: round(float(np.mean(v)), 3) for k, v in running.items() if v}
            log(f"step {i + 1}/{len(steps)} loss {means} {time.perf_counter() - started:.0f}s")
            running = {"cosent": [], "mnrl": []}
    model.eval()
    model[0].embedding.sparse = False  # callers fine-tuning the model get ordinary dense gradients

    stats = {
        "recipe": asdict(recipe),
        "seed": seed,
        "train_seconds": round(time.perf_counter() - started, 1),
        "steps": len(steps),
        "vocab_size": len(vocab),
        "vocab_words": sum(len(t) > 1 for t in vocab) - 1,
        "distinct_sentences": len(sentences),
        "data": data.sizes(),
        "dropped_eval_overlaps": data.dropped_overlap,
    }
    return model, stats


def save(model, out: Path, stats: dict, fp16: bool = True) -> None:
    if fp16:
        model.half()  # halves the shipped size; cosine similarities change by < 1e-3
    model.save(str(out))
    (out / "training_stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def kb_stage(general_dir: Path, kb_file: Path, out: Path, epochs: int, seed: int,
             paraphrases: Path | None = None) -> dict:
    """Adapt the general model to customer-service questions: the KB's own question pairs,
    exactly as `kb train` makes them, plus the project's cross-industry paraphrase corpus
    (kb/embedding/paraphrases) when given, so the model learns how customers of any industry
    rephrase a need, not only the demo KB's questions."""
    from kb.embedding.kb_pairs import entry_pairs
    from kb.embedding.paraphrase_pairs import group_pairs, read_groups, training_groups
    from kb.interchange import parse_file

    pairs = entry_pairs(parse_file(kb_file).records)
    groups = training_groups(read_groups(paraphrases)) if paraphrases is not None else []
    stats = finetune_on_pairs(general_dir, pairs + group_pairs(groups), out, epochs=epochs, seed=seed)
    root = DEMO_KB.parents[2]
    stats["kb"] = kb_file.relative_to(root).as_posix() if kb_file.is_relative_to(root) else str(kb_file)
    if paraphrases is not None:
        stats["paraphrases"] = {"groups": len(groups),
                                "dir": paraphrases.relative_to(root).as_posix() if paraphrases.is_relative_to(root)
                                else str(paraphrases)}
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the Chinese static sentence-embedding model")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--general-out", type=Path, default=None,
                        help="also keep the general model (before the KB stage) here")
    parser.add_argument("--kb", type=Path, default=DEMO_KB,
                        help="KB whose questions adapt the model in a last stage (see kb train)")
    parser.add_argument("--kb-epochs", type=int, default=8, help="epochs of the KB stage; 0 skips it")
    parser.add_argument("--paraphrases", type=Path, default=PARAPHRASES,
                        help="customer-service paraphrase corpus joined to the KB stage ('none' leaves it out)")
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="override a Recipe field, e.g. --set dim=512 use_mnrl=false")
    parser.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    args = parser.parse_args()

    recipe = Recipe()
    for item in args.set:
        key, value = item.split("=", 1)
        kind = type(getattr(recipe, key))
        setattr(recipe, key, value.lower() in ("1", "true", "yes") if kind is bool else kind(value))

    model, stats = train(args.datasets, recipe, args.seed)
    stats["dim"] = recipe.dim
    processor = platform.processor() or platform.machine()
    stats["machine"] = f"{os.cpu_count()} CPU cores, {processor}, torch {torch.__version__}"
    model.half()  # evaluate exactly the weights that are shipped

    def evaluate(m) -> dict:
        from kb.embedding.evaluate import lexical_scores, spearman_scores

        scores = {"spearman": spearman_scores(m, args.datasets)}
        scores["spearman_lexical"] = lexical_scores(args.datasets)
        print("spearman x100:", scores["spearman"], "lexical:", scores["spearman_lexical"])
        return scores

    if not args.no_eval:
        stats.update(evaluate(model))
    general_out = args.general_out or (args.out.parent / f".{args.out.name}-general")
    general_out.mkdir(parents=True, exist_ok=True)
    save(model, general_out, stats)
    write_model_card(general_out, stats)
    if args.kb_epochs <= 0:
        args.out.mkdir(parents=True, exist_ok=True)
        save(model, args.out, stats)
        write_model_card(args.out, stats)
    else:
        from kb.embedding import load_model

        paraphrases = None if str(args.paraphrases) == "none" else args.paraphrases
        stats["kb_stage"] = kb_stage(general_out, args.kb, args.out, args.kb_epochs, args.seed, paraphrases)
        stats["spearman_general"] = stats.pop("spearman", None)
        if not args.no_eval:
            stats["spearman"] = evaluate(load_model(args.out).half())["spearman"]
        (args.out / "training_stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n", "utf-8")
        write_model_card(args.out, stats)
        if args.general_out is None:
            import shutil

            shutil.rmtree(general_out)
    print(f"saved to {args.out} ({stats['train_seconds']}s training)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
