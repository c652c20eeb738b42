"""The Rasa project itself: `rasa data validate` is clean (with the examples generated from the
KB) and the trained model is current."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT, Settings, get_settings
from stack.kb_faq_examples import render_nlu
from stack.rasa_model import (
    BOT_DIR,
    DATA_DIR,
    ensure_trained,
    rasa_bin,
    rasa_env,
    write_kb_faq_examples,
)


@pytest.fixture(scope="module")
def rasa():
    if not rasa_bin().exists():
        pytest.fail("the Rasa virtualenv is missing: run `make setup`")
    return rasa_bin()


# A warning printed by Python's warnings module ("file:line: UserWarning: ...", how Rasa reports
# data problems) or a Rasa log line at WARNING level or above.
WARNING_LINE = re.compile(r":\d+: (?P<category>\w*Warning): |^\S+ \S+ (WARNING|ERROR|CRITICAL) ")


def rasa_warnings(output: str) -> list[str]:
    """The warning lines of a Rasa command. DeprecationWarnings (and pyparsing's subclass) are
    what packages print when Rasa imports them (pkg_resources, jax, matplotlib); Rasa reports
    its own deprecations in the data as FutureWarning, which counts."""
    return [line for line in output.splitlines()
            if (match := WARNING_LINE.search(line)) and not match["category"].endswith("DeprecationWarning")]


def run_rasa(rasa, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(rasa), *args], capture_output=True, text=True, env=rasa_env(),
                          cwd=PROJECT_ROOT, timeout=300, check=False)


def rasa_data_validate(rasa, *data: Path) -> str:
    proc = run_rasa(rasa, "data", "validate", "--domain", str(BOT_DIR / "domain.yml"),
                    "--data", *map(str, data), "--config", str(BOT_DIR / "config.yml"))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-2000:]
    return output


@pytest.fixture
def generated_faq_data(tmp_path) -> Path:
    """The ask_faq examples the product trains on, generated from the shipped demo KB."""
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    return write_kb_faq_examples(settings).parent


def test_rasa_data_validate_is_clean(rasa, generated_faq_data):
    """The training data as trained (hand-written plus generated from the KB) gives no warning
    at all: no example under two intents, no unused intent or response, no story conflict."""
    output = rasa_data_validate(rasa, DATA_DIR, generated_faq_data)
    assert rasa_warnings(output) == []
    assert "No story structure conflicts found" in output


def test_validation_warnings_are_caught(rasa, tmp_path):
    """The check above would see a conflicting example: "转人工" as ask_faq too."""
    (tmp_path / "conflict.yml").write_text(render_nlu(["转人工"]), "utf-8")
    warnings = rasa_warnings(rasa_data_validate(rasa, DATA_DIR, tmp_path))
    assert len(warnings) == 1 and "'转人工'" in warnings[0] and "request_human" in warnings[0]


def test_training_gives_no_warning(rasa, generated_faq_data, tmp_path):
    """`rasa train` checks the data against the pipeline before training (e.g. entity examples
    that nothing learns); its dry run does all of that without training."""
    proc = run_rasa(rasa, "train", "--dry-run", "--config", str(BOT_DIR / "config.yml"),
                    "--domain", str(BOT_DIR / "domain.yml"), "--data", str(DATA_DIR),
                    str(generated_faq_data), "--out", str(tmp_path / "models"))
    output = proc.stdout + proc.stderr
    finished = ("The model needs to be retrained", "No training of components required")
    assert any(line in output for line in finished), output[-2000:]
    assert rasa_warnings(output) == []


def test_model_is_not_retrained_when_nothing_changed(rasa):
    path, _ = ensure_trained(get_settings())
    before = path.stat().st_mtime
    again, trained = ensure_trained(get_settings())
    assert again == path and trained is False and path.stat().st_mtime == before
