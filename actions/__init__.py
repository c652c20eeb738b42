"""Rasa custom actions (rasa-sdk), run by `python -m rasa_sdk --actions actions` on Python 3.11.

They search the KB in-process (the same engine the API uses) and create escalation records
through the gateway's internal API, which owns conversations.
"""
