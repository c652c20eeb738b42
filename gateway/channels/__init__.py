"""Channel adapters at the gateway's edge (the web channel lives in assist_api/routes)."""
