"""The action server's client for the gateway's internal API."""

from __future__ import annotations

from typing import Any

import httpx

from common.observability.context import HEADER, request_id


class GatewayError(Exception):
    pass


class GatewayClient:
    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s,
                                         headers={"X-Service-Token": token})

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        # Handoff creation is idempotent on the gateway, so one retry is always safe.
        last: Exception | None = None
        for _ in range(2):
            try:
                # The request id of the turn (from the message metadata) reaches the gateway's logs.
                headers = {HEADER: rid} if (rid := request_id()) else None
                response = await self._client.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                last = exc
                continue
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise GatewayError(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
            return response.json()
        raise GatewayError(f"{method} {path}: {last}")

    async def create_handoff(self, conversation_id: str, reason: str, bot_tried: list[dict],
                             category: str | None, category_confidence: float) -> dict[str, Any]:
        result = await self._call("POST", "/api/internal/handoffs", json={
            "conversation_id": conversation_id, "reason": reason, "bot_tried": bot_tried,
            "category": category, "category_confidence": category_confidence,
        })
        if result is None:
            raise GatewayError(f"conversation {conversation_id} unknown to the gateway")
        return result

    async def handoff_status(self, conversation_id: str) -> dict[str, Any] | None:
        return await self._call("GET", f"/api/internal/conversations/{conversation_id}/handoff")

    async def feedback(self, conversation_id: str, entry_id: str, helpful: bool) -> None:
        await self._call("POST", "/api/internal/feedback", json={
            "conversation_id": conversation_id, "entry_id": entry_id, "helpful": helpful})
