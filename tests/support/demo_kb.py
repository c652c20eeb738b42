"""The demo KB and its evaluation queries, where the settings say they are, and how many entries
the file holds (every one is published), counted from the file rather than copied."""

from __future__ import annotations

from config.settings import Settings
from kb.interchange import parse_file

DEMO_KB = Settings.model_fields["demo_kb_file"].default
EVAL_DIR = DEMO_KB.parent / "eval"
DEMO_ENTRIES = len(parse_file(DEMO_KB).records)
