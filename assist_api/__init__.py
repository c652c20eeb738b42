"""HTTP service: gateway, agent assist, handoff queue, KB editor API and UI (FastAPI)."""
