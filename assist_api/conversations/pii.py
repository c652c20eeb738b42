"""Mask personal data before anything is stored or logged: mobile numbers, 18-digit resident
ID numbers and bank-card numbers. The customer sees their own text; the database never does."""

from __future__ import annotations

import re

# Digit runs are matched whole (no digit right before or after), so a long card number is
# never half-matched as a phone number. Order matters: IDs and cards before phones.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_BANK_CARD = re.compile(r"(?<!\d)(\d{4})(?:[ -]?\d){8,11}?[ -]?(\d{4})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")


def mask_pii(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    text = _BANK_CARD.sub(lambda m: f"{m.group(1)} **** **** {m.group(2)}", text)
    return text
