"""The platform's one SQL database: ORM base, engine/session factory and Alembic migrations."""
