"""Server-sent events read back from a finished stream's body."""

from __future__ import annotations

import json


def events(body: str) -> list[tuple[str, dict, str | None]]:
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"]), fields.get("id")))
    return out
