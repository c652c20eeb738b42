"""Talk to the Rasa server's REST channel."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            response = await self._client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata or {}},
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            return [self._reply(item) for item in response.json() if item.get("text")]
        except (ValueError, AttributeError) as exc:
            raise RasaUnavailable(f"unreadable reply: {exc}") from exc

    @staticmethod
    def _reply(item: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"text": item["text"]}
        if item.get("buttons"):
            reply["buttons"] = [{"title": b["title"], "payload": b["payload"]} for b in item["buttons"]]
        return reply

    async def close(self) -> None:
        await self._client.aclose()
