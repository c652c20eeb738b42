"""The browser UIs: the embeddable widget's files, its demo page, the agent console and the KB
editor. Plain HTML, CSS and JavaScript from `assist_api/ui/`; no build step."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

UI_DIR = Path(__file__).resolve().parent.parent / "ui"

router = APIRouter(include_in_schema=False)


def _page(name: str):
    def page() -> FileResponse:
        return FileResponse(UI_DIR / name, media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})
    page.__name__ = f"page_{name.split('.')[0]}"
    return page


for _path, _file in (("/demo", "demo.html"), ("/console", "console.html"), ("/editor", "editor.html")):
    router.add_api_route(_path, _page(_file), methods=["GET"])


@router.get("/widget.js")
def widget_script() -> RedirectResponse:
    return RedirectResponse("/ui/widget.js", status_code=308)


def mount_static(app) -> None:
    # The pages' scripts are ES modules, which browsers run only with a JavaScript type; some
    # systems' MIME tables (a Windows registry entry) name .js text/plain.
    mimetypes.add_type("text/javascript", ".js")
    app.mount("/ui", StaticFiles(directory=UI_DIR), name="ui")
