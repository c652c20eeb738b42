"""The Rasa project itself: `rasa data validate` is clean and the trained model is current."""

from __future__ import annotations

import subprocess

import pytest

from config.settings import PROJECT_ROOT, get_settings
from stack.rasa_model import BOT_DIR, DATA_DIR, ensure_trained, rasa_bin, rasa_env


@pytest.fixture(scope="module")
def rasa():
    if not rasa_bin().exists():
        pytest.fail("the Rasa virtualenv is missing: run `make setup`")
    return rasa_bin()


def test_rasa_data_validate_is_clean(rasa):
    proc = subprocess.run(
        [str(rasa), "data", "validate", "--domain", str(BOT_DIR / "domain.yml"),
         "--data", str(DATA_DIR), "--config", str(BOT_DIR / "config.yml")],
        capture_output=True, text=True, env=rasa_env(), cwd=PROJECT_ROOT, timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-2000:]
    # Warnings about the data (unused intents, responses, conflicts) count as failures.
    data_warnings = [line for line in output.splitlines()
                     if "UserWarning" in line and "rasa/shared/utils/io.py" in line]
    assert data_warnings == []
    assert "No story structure conflicts found" in output


def test_model_is_not_retrained_when_nothing_changed(rasa):
    path, _ = ensure_trained(get_settings())
    before = path.stat().st_mtime
    again, trained = ensure_trained(get_settings())
    assert again == path and trained is False and path.stat().st_mtime == before
