"""Training needs torch and sentence-transformers, which the runtime does not install: they
come with the project's `train` extra. Commands that train check for them first, so a
missing extra is one clear line naming what to install instead of an ImportError trace."""

from __future__ import annotations

from importlib.util import find_spec

INSTALL_HINT = "pip install -e '.[train]'"
_LIBRARIES = ("torch", "sentence_transformers")


class TrainingExtraMissing(ImportError):
    """torch or sentence-transformers is not installed."""


def require_training_libraries(what: str = "training") -> None:
    """Raise TrainingExtraMissing unless the `train` extra's libraries are importable."""
    missing = [name for name in _LIBRARIES if find_spec(name) is None]
    if missing:
        raise TrainingExtraMissing(
            f"{what} needs {' and '.join(missing)}, which the runtime does not install; "
            f"install the train extra: {INSTALL_HINT}"
        )
