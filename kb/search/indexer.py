"""Build the search index from the store's published entries and open the current one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from config.settings import Settings
from kb.search.calibration import Calibrator
from kb.search.dense import StaleIndexError
from kb.search.engine import CALIBRATION_FILE, INDEX_FORMAT, SearchEngine, calibration_inputs, encoder_fingerprint
from kb.search.index_store import IndexStore, read_manifest
from kb.store import KBStore


def index_store(settings: Settings, database_url: str) -> IndexStore:
    """Each database gets its own index directory, so `--db` never clobbers another's."""
    digest = hashlib.sha1(_describe_db(database_url).encode()).hexdigest()[:12]
    return IndexStore(settings.resolved_index_dir / digest, keep=settings.index_keep_versions)


def rebuild(store: KBStore, settings: Settings, recalibrate: bool = False) -> tuple[SearchEngine, Path]:
    """Build from published entries, write a new index version and make it current. The
    current index's own calibration is carried over while it still fits the KB
    (kb.autotune.still_fits), so a publish reaches search in about a second; `recalibrate`
    (`kb reindex`) fits a new one regardless."""
    from kb.autotune import choose_calibrator

    revision = store.revision()
    published = list(store.published())
    versions = index_store(settings, store.database_url)
    carried = None if recalibrate else _carried_calibration(versions, settings, [e.id for e in published])
    engine = SearchEngine.build(published, settings, revision=revision,
                                calibrator=carried or choose_calibrator(published, settings))
    building = versions.new_version_dir(revision)
    manifest = engine.save(building)
    manifest["database"] = _describe_db(store.database_url)
    return engine, versions.activate(building, manifest)


def open_engine(store: KBStore, settings: Settings, rebuild_if_stale: bool = True) -> SearchEngine:
    """The current index, rebuilt first when missing, of an older format, built for another
    database or with another embedding model, or older than the store's revision."""
    versions = index_store(settings, store.database_url)
    for _ in range(3):
        path = versions.current()
        if path is None:
            break
        try:
            return _load_current(store, settings, path, rebuild_if_stale)
        except FileNotFoundError:
            # A concurrent build pruned this version while it was loading (it became current,
            # then three newer builds followed): look at CURRENT again.
            continue
        except _Stale:
            break
    engine, _ = rebuild(store, settings)
    return engine


def _carried_calibration(versions: IndexStore, settings: Settings, ids: list[str]) -> Calibrator | None:
    """The current index's self-fitted calibration, when it was built with the same model and
    calibration inputs and still fits these entries."""
    from kb.autotune import still_fits

    path = versions.current()
    if path is None or not (path / CALIBRATION_FILE).is_file():
        return None
    try:
        manifest = read_manifest(path)
        if not _compatible(manifest, settings):
            return None
        calibrator = Calibrator.load(path / CALIBRATION_FILE)
    except (FileNotFoundError, ValueError, KeyError):
        return None  # pruned or unreadable meanwhile: calibrate afresh
    return calibrator if still_fits(calibrator, ids) else None


def _compatible(manifest: dict, settings: Settings) -> bool:
    return (
        manifest.get("format") == INDEX_FORMAT
        and manifest.get("encoder") == encoder_fingerprint(settings)
        and manifest.get("calibration_inputs") == calibration_inputs(settings)
        and manifest.get("lexical", True) == settings.lexical_search
    )


class _Stale(Exception):
    """The current index cannot serve this store and settings: build a new one."""


def _load_current(store: KBStore, settings: Settings, path: Path, rebuild_if_stale: bool) -> SearchEngine:
    manifest = read_manifest(path)
    compatible = _compatible(manifest, settings)
    fresh = (
        compatible
        and manifest.get("database") == _describe_db(store.database_url)
        and manifest.get("revision") == store.revision()
    )
    if not (fresh or (not rebuild_if_stale and compatible)):
        raise _Stale
    try:
        return SearchEngine.load(path, settings, manifest.get("revision"))
    except StaleIndexError:
        raise _Stale from None  # the model changed between the check and the load


def _describe_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
