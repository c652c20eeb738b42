"""Train the Rasa model when (and only when) its inputs changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from config.settings import PROJECT_ROOT, Settings
from stack.kb_faq_examples import hand_written_keys, kb_faq_examples, render_nlu

BOT_DIR = PROJECT_ROOT / "bot"
DATA_DIR = PROJECT_ROOT / "training_data"
RASA_VENV = PROJECT_ROOT / ".venv-rasa"
MODEL_NAME = "bot"


def rasa_bin() -> Path:
    return RASA_VENV / "bin" / "rasa"


def write_kb_faq_examples(settings: Settings) -> Path:
    """ask_faq examples from the KB itself (stack.kb_faq_examples picks them), so the NLU
    recognises every topic the KB answers; regenerated per training."""
    from db.migrate import upgrade
    from kb.interchange import parse_file
    from kb.store import KBStore

    upgrade(settings.database_url)
    entries = KBStore(settings.database_url).published()
    if not entries:  # nothing published yet: learn the topics of the shipped demo KB
        entries = parse_file(settings.demo_kb_file).records
    examples = kb_faq_examples(entries, taken=hand_written_keys(DATA_DIR))
    path = settings.var_dir / "rasa-generated" / "faq_from_kb.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_nlu(examples), "utf-8")
    return path


def inputs_digest(extra: list[Path] = ()) -> str:
    digest = hashlib.sha256()
    files = [BOT_DIR / "config.yml", BOT_DIR / "domain.yml", *sorted((BOT_DIR / "addons").glob("*.py")),
             *sorted(DATA_DIR.rglob("*.yml")), *extra]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.resolved_rasa_model_dir / f"{MODEL_NAME}.tar.gz"


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        # Rasa's training cache defaults to ./.rasa in the working directory.
        "RASA_CACHE_DIRECTORY": str(PROJECT_ROOT / "var" / "rasa-cache"),
    })
    # The Rasa venv must not see the 3.11 project's packages, only its own NLU add-ons.
    env["PYTHONPATH"] = str(BOT_DIR / "addons")
    env.pop("VIRTUAL_ENV", None)
    return env


def ensure_trained(settings: Settings, force: bool = False) -> tuple[Path, bool]:
    """Returns the model path and whether it was (re)trained now."""
    target = model_path(settings)
    stamp = target.with_suffix(".digest")
    generated = write_kb_faq_examples(settings)
    digest = inputs_digest([generated])
    if not force and target.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(rasa_bin()), "train", "--config", str(BOT_DIR / "config.yml"),
         "--domain", str(BOT_DIR / "domain.yml"), "--data", str(DATA_DIR), str(generated.parent),
         "--out", str(target.parent), "--fixed-model-name", MODEL_NAME, "--quiet"],
        check=True, env=rasa_env(), cwd=PROJECT_ROOT,
    )
    stamp.write_text(digest)
    return target, True
