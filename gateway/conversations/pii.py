"""Mask personal data before anything is stored or logged: mobile numbers, 18-digit resident
ID numbers and bank-card numbers. The customer sees their own text; the database never does."""

from __future__ import annotations

import re

# Digit runs are matched whole (no digit or letter right before or after), so a long card
# number is never half-matched as a phone number and codes like WO2026… or ZTEG139… are left
# alone. Order matters: IDs, then phones, then cards (which may be written in groups).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?![0-9A-Za-z])")
_BANK_CARD = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){15,18}(?![0-9A-Za-z])")


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_pii(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    text = _BANK_CARD.sub(_mask_card, text)
    return text
