"""Structured logs: one JSON object a line with the time, level, logger, message, and the
request and conversation ids of the work in progress."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from common.observability.context import CONVERSATION_ID, REQUEST_ID

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str | int | float | bool | None] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", REQUEST_ID), ("conversation_id", CONVERSATION_ID)):
            value = getattr(record, key, None) or var.get()
            if value:
                entry[key] = value
        for key, value in vars(record).items():  # extra={...} fields
            if key not in _STANDARD and key not in entry:
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, fmt: str = "json", level: int = logging.INFO) -> None:
    """Root logging for a service: JSON lines (default) or the plain text format."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "sanic.root", "sanic.access", "sanic.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # The services write their own access line (with request id and duration). uvicorn logs
    # its access line whenever the logger has a handler, whatever access_log says, and httpx
    # one INFO line per outgoing request: two more lines on every customer turn, no new facts.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers = []
    uvicorn_access.propagate = False
    logging.getLogger("httpx").setLevel(logging.WARNING)
