"""The reply-template library: agents read it, editors and admins change it."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response

from assist_api.assist.templates import TemplateExists, TemplateIn, TemplateNotFound, template_json
from assist_api.auth.dependencies import require
from assist_api.auth.keys import Principal, Role

router = APIRouter(prefix="/api/templates", tags=["templates"])


@router.get("")
def list_templates(request: Request,
                   stage: Literal["opening", "confirmation", "solution", "soothing", "closing"] | None = None,
                   category: str | None = None, channel: Literal["web", "wechat"] | None = None,
                   agent: Principal = require(Role.agent)) -> list[dict]:
    """The reply-template library, filtered by stage, category or channel."""
    return [template_json(t) for t in request.app.state.templates.list(stage, category, channel)]


@router.get("/{template_id}")
def get_template(template_id: str, request: Request, agent: Principal = require(Role.agent)) -> dict:
    """One reply template."""
    try:
        return template_json(request.app.state.templates.get(template_id))
    except TemplateNotFound:
        raise HTTPException(404, f"no template {template_id!r}") from None


@router.post("", status_code=201)
def create_template(body: TemplateIn, request: Request, editor: Principal = require(Role.editor)) -> dict:
    """Add a template (editors, admins); unknown variables and discouraged phrases are refused."""
    if request.app.state.suggester.config.discouraged(body.text):
        raise HTTPException(422, "the text contains a discouraged phrase")
    try:
        return template_json(request.app.state.templates.create(body, editor.name))
    except TemplateExists:
        raise HTTPException(409, f"template {body.id!r} already exists") from None


@router.put("/{template_id}")
def replace_template(template_id: str, body: TemplateIn, request: Request,
                     editor: Principal = require(Role.editor)) -> dict:
    """Replace a template's content (editors, admins); its version rises."""
    if body.id != template_id:
        raise HTTPException(422, "the id in the body must match the URL")
    if request.app.state.suggester.config.discouraged(body.text):
        raise HTTPException(422, "the text contains a discouraged phrase")
    try:
        return template_json(request.app.state.templates.replace(template_id, body, editor.name))
    except TemplateNotFound:
        raise HTTPException(404, f"no template {template_id!r}") from None


@router.delete("/{template_id}", status_code=204)
def delete_template(template_id: str, request: Request, editor: Principal = require(Role.editor)) -> Response:
    """Delete a template (editors, admins)."""
    try:
        request.app.state.templates.delete(template_id)
    except TemplateNotFound:
        raise HTTPException(404, f"no template {template_id!r}") from None
    return Response(status_code=204)
