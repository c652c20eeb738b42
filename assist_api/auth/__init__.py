"""Role-scoped API keys (hashed at rest) and the FastAPI dependencies that check them."""
