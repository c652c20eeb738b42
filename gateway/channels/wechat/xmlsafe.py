"""WeChat's XML, parsed safely: bounded size, no DTD or entity declarations at all (WeChat
never sends them; refusing them up front rules out XXE and entity expansion), and xmltodict
(which wechatpy uses) with its entity guard on as a second layer."""

from __future__ import annotations

import re
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.messages import BaseMessage

MAX_BODY_BYTES = 64 * 1024
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


class BadXML(ValueError):
    """Not a WeChat message we accept (malformed, too large, or with a DTD)."""


def _check(body: bytes | str) -> bytes:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise BadXML(f"body larger than {MAX_BODY_BYTES} bytes")
    if _DECLARATION.search(raw):
        raise BadXML("DTD and entity declarations are not accepted")
    return raw


def parse_dict(body: bytes | str) -> dict[str, Any]:
    """The children of the root <xml> element as a dict (for the safe-mode envelope)."""
    raw = _check(body)
    try:
        doc = xmltodict.parse(raw, disable_entities=True)
    except (ExpatError, ValueError) as exc:  # malformed XML; the entity guard raises ValueError
        raise BadXML(f"malformed XML: {exc}") from None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise BadXML("no <xml> root element")
    return root


def parse(body: bytes | str) -> BaseMessage:
    """A wechatpy message or event; raises BadXML for anything unsafe or incomplete."""
    fields = parse_dict(body)  # validates first; parse_message re-parses the checked text
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        raise BadXML("MsgType and FromUserName are required")
    raw = _check(body)
    try:
        return parse_message(raw.decode("utf-8"))
    # not UTF-8; a field with child elements where wechatpy expects text
    except (ValueError, AttributeError, TypeError) as exc:
        raise BadXML(f"unreadable message: {exc}") from None
