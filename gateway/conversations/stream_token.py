"""Per-conversation tokens for the web widget's live stream.

A token is an HMAC of the conversation and its customer under a key derived from the gateway's
secret, so it needs no storage, and holding one opens that conversation's stream and no other.
The gateway hands it out with every reply to the customer (`X-Conversation-Token`).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Conversation-Token"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"web-conversation-stream", hashlib.sha256).digest()


def issue(secret: str, conversation_id: str, customer_id: str) -> str:
    message = f"{conversation_id}\n{customer_id}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()[:40]


def verify(secret: str, conversation_id: str, customer_id: str, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(issue(secret, conversation_id, customer_id), token)
