-- Rasa's tracker store lives in its own database; Rasa must find it (it would otherwise fall
-- back to a per-replica in-memory store).
CREATE DATABASE rasa OWNER cs;
