"""The demo data's files, where the settings say they are."""

from __future__ import annotations

from config.settings import Settings

DEMO_KB = Settings.model_fields["demo_kb_file"].default
EVAL_DIR = DEMO_KB.parent / "eval"
