"""The reply-template library: agents read it, editors and admins change it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response

from assist_api.assist.templates import TemplateExists, TemplateIn, TemplateNotFound, template_json
from assist_api.deps import CurrentAgent, CurrentEditor, SuggesterDep, TemplatesDep
from assist_api.schemas.templates import TemplateOut

router = APIRouter(prefix="/api/templates", tags=["templates"])


@router.get("", response_model=list[TemplateOut])
def list_templates(templates: TemplatesDep, agent: CurrentAgent,
                   stage: Literal["opening", "confirmation", "solution", "soothing", "closing"] | None = None,
                   category: str | None = None,
                   channel: Literal["web", "wechat"] | None = None) -> list[dict[str, Any]]:
    """The reply-template library, filtered by stage, category or channel."""
    return [template_json(t) for t in templates.list(stage, category, channel)]


@router.get("/{template_id}", response_model=TemplateOut)
def get_template(template_id: str, templates: TemplatesDep, agent: CurrentAgent) -> dict[str, Any]:
    """One reply template."""
    try:
        return template_json(templates.get(template_id))
    except TemplateNotFound:
        raise HTTPException(404, f"no template {template_id!r}") from None


@router.post("", status_code=201, response_model=TemplateOut)
def create_template(body: TemplateIn, templates: TemplatesDep, suggester: SuggesterDep,
                    editor: CurrentEditor) -> dict[str, Any]:
    """Add a template (editors, admins); unknown variables and discouraged phrases are refused."""
    if suggester.config.discouraged(body.text):
        raise HTTPException(422, "the text contains a discouraged phrase")
    try:
        return template_json(templates.create(body, editor.name))
    except TemplateExists:
        raise HTTPException(409, f"template {body.id!r} already exists") from None


@router.put("/{template_id}", response_model=TemplateOut)
def replace_template(template_id: str, body: TemplateIn, templates: TemplatesDep, suggester: SuggesterDep,
                     editor: CurrentEditor) -> dict[str, Any]:
    """Replace a template's content (editors, admins); its version rises."""
    if body.id != template_id:
        raise HTTPException(422, "the id in the body must match the URL")
    if suggester.config.discouraged(body.text):
        raise HTTPException(422, "the text contains a discouraged phrase")
    try:
        return template_json(templates.replace(template_id, body, editor.name))
    except TemplateNotFound:
        raise HTTPException(404, f"no template {template_id!r}") from None


@router.delete("/{template_id}", status_code=204, response_class=Response,
               responses={204: {"description": "Deleted; no body."}})
def delete_template(template_id: str, templates: TemplatesDep, editor: CurrentEditor) -> Response:
    """Delete a template (editors, admins)."""
    try:
        templates.delete(template_id)
    except TemplateNotFound:
        raise HTTPException(404, f"no template {template_id!r}") from None
    return Response(status_code=204)
