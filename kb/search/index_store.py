"""Versioned index directories on disk with an atomically swapped CURRENT pointer.

A build writes a complete new directory, then replaces CURRENT in one rename, so a reader
loads either the old or the new index and never a half-written one. Old versions are kept
for a while so a reader that resolved CURRENT just before a swap can still finish loading.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

POINTER = "CURRENT"
MANIFEST = "manifest.json"


class IndexStore:
    def __init__(self, root: Path, keep: int = 3) -> None:
        self.root = root
        self.keep = max(keep, 2)

    def current(self) -> Path | None:
        try:
            name = (self.root / POINTER).read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if (path / MANIFEST).is_file() else None

    def current_manifest(self) -> dict[str, Any] | None:
        path = self.current()
        return read_manifest(path) if path else None

    def new_version_dir(self, revision: int) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"r{revision:08d}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        path = self.root / f".building-{name}"
        path.mkdir()
        return path

    def activate(self, building_dir: Path, manifest: dict[str, Any]) -> Path:
        (building_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
        final = building_dir.with_name(building_dir.name.removeprefix(".building-"))
        building_dir.rename(final)
        tmp = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        tmp.write_text(final.name, "utf-8")
        os.replace(tmp, self.root / POINTER)
        self._prune(final)
        return final

    def _prune(self, active: Path) -> None:
        # Other builders (threads or replicas sharing this directory) rename and prune at the
        # same time: a directory listed a moment ago may be gone by the time it is looked at.
        dated: list[tuple[Path, float]] = []
        for p in self.root.iterdir():
            if p.name.startswith("r") and p.is_dir() and (mtime := _mtime(p)) is not None:
                dated.append((p, mtime))
        versions = [p for p, _ in sorted(dated, key=lambda x: x[1])]
        for old in versions[: -self.keep]:
            if old != active:
                shutil.rmtree(old, ignore_errors=True)
        for stale in self.root.glob(".building-*"):
            # A build that died mid-way leaves its directory; anything over an hour old is junk.
            mtime = _mtime(stale)
            if mtime is not None and time.time() - mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads((path / MANIFEST).read_text("utf-8"))
