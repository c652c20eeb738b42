"""Train the Rasa model when (and only when) its inputs changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from config.settings import PROJECT_ROOT, Settings

BOT_DIR = PROJECT_ROOT / "bot"
DATA_DIR = PROJECT_ROOT / "training_data"
RASA_VENV = PROJECT_ROOT / ".venv-rasa"
MODEL_NAME = "bot"


def rasa_bin() -> Path:
    return RASA_VENV / "bin" / "rasa"


def inputs_digest() -> str:
    digest = hashlib.sha256()
    files = [BOT_DIR / "config.yml", BOT_DIR / "domain.yml", *sorted(DATA_DIR.rglob("*.yml"))]
    for path in files:
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
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
    })
    # The Rasa venv must not see the 3.11 project's packages.
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def ensure_trained(settings: Settings, force: bool = False) -> tuple[Path, bool]:
    """Returns the model path and whether it was (re)trained now."""
    target = model_path(settings)
    stamp = target.with_suffix(".digest")
    digest = inputs_digest()
    if not force and target.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(rasa_bin()), "train", "--config", str(BOT_DIR / "config.yml"),
         "--domain", str(BOT_DIR / "domain.yml"), "--data", str(DATA_DIR),
         "--out", str(target.parent), "--fixed-model-name", MODEL_NAME, "--quiet"],
        check=True, env=rasa_env(), cwd=PROJECT_ROOT,
    )
    stamp.write_text(digest)
    return target, True
