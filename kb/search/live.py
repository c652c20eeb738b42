"""A search engine that follows the store: long-running services (API, action server) hold
one and pick up newly published content without a restart."""

from __future__ import annotations

import logging
import threading
import time

from config.settings import Settings
from kb.search.engine import SearchEngine
from kb.search.indexer import open_engine
from kb.store import KBStore

logger = logging.getLogger(__name__)


class LiveEngine:
    _watcher: threading.Thread | None = None  # the background refresher, while it runs

    def __init__(self, store: KBStore, settings: Settings, check_interval_s: float = 2.0) -> None:
        self.store = store
        self.settings = settings
        self.check_interval_s = check_interval_s
        self._engine = open_engine(store, settings)
        self._checked_at = time.monotonic()
        self._refreshing = threading.Lock()

    def get(self) -> SearchEngine:
        """The freshest engine available now. At most one caller refreshes at a time; the
        others keep searching the previous index meanwhile, so no search waits or fails.
        With the background watcher running, only the watcher refreshes: a rebuild (which
        recalibrates, tens of seconds on a large KB) never lands on a customer's request."""
        if self._watcher is not None:
            return self._engine
        return self._refresh_if_due()

    def _refresh_if_due(self) -> SearchEngine:
        if time.monotonic() - self._checked_at >= self.check_interval_s:
            if self._refreshing.acquire(blocking=False):
                try:
                    self._checked_at = time.monotonic()
                    if self.store.revision() != self._engine.revision:
                        self._engine = open_engine(self.store, self.settings)
                except Exception:
                    # Keep answering from the index we have; the next check tries again.
                    logger.exception("search index refresh failed; still serving revision %s",
                                     self._engine.revision)
                finally:
                    self._refreshing.release()
        return self._engine

    def start_background_refresh(self) -> None:
        """Check for a newer published revision every `check_interval_s` in a daemon thread,
        so an idle replica's index is current before its next search (a rebuild of a large KB
        then never lands on a customer's request). `stop_background_refresh` ends it."""
        if getattr(self, "_watcher", None) is not None:
            return
        self._stopped = threading.Event()

        def loop() -> None:
            while not self._stopped.wait(self.check_interval_s):
                self._refresh_if_due()

        self._watcher = threading.Thread(target=loop, name="kb-index-refresh", daemon=True)
        self._watcher.start()

    def stop_background_refresh(self) -> None:
        if self._watcher is not None:
            self._stopped.set()
            self._watcher.join(timeout=5)
            self._watcher = None
