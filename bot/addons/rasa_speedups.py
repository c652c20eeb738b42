"""Speed-ups for the Rasa 3.6 server, applied when the model's custom NLU component loads.

Rasa validates every action-server response with `jsonschema.validate(result, schema)`,
which re-checks and re-compiles the (constant) schema on every call: a third of the Rasa
server's CPU per turn in our profile (py-spy, 10 concurrent conversations). Validating with
one validator built once gives the same checks and errors at a fraction of the cost.

A message that arrives while the same conversation's previous one is still being processed
(a double click, two quick messages) waits for the conversation lock, which Rasa re-checks
only once a second: that wait was the whole p95 of the load benchmark. It re-checks every
50 ms here (two Redis round trips each, or a dict look-up with the in-memory lock store).
"""

from __future__ import annotations

from typing import Any, Dict, Text

_validator = None


def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
    import jsonschema

    global _validator
    if _validator is None:
        schema = self.action_response_format_spec()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    try:
        _validator.validate(result)
        return True
    except jsonschema.ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid."
        )
        raise e


LOCK_POLL_S = 0.05


def _short_lock_poll() -> None:
    from rasa.core.lock_store import LockStore

    original = LockStore.lock
    if getattr(original, "_short_poll", False):
        return

    def lock(self, conversation_id, lock_lifetime=None, wait_time_in_seconds=LOCK_POLL_S):
        from rasa.core.lock_store import LOCK_LIFETIME

        return original(self, conversation_id,
                        LOCK_LIFETIME if lock_lifetime is None else lock_lifetime, wait_time_in_seconds)

    lock._short_poll = True
    LockStore.lock = lock


def apply() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
    _short_lock_poll()
