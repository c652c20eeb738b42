"""The Prometheus metrics of the platform's services (one process-wide registry).

Counters and histograms are updated where things happen; gauges that describe stored state
(open handoffs past their SLA, the KB index version) are refreshed when /metrics is scraped.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter("cs_http_requests_total", "HTTP requests served, by route template and status.",
                        ["service", "method", "route", "status"], registry=REGISTRY)
HTTP_LATENCY = Histogram("cs_http_request_duration_seconds", "Time to serve an HTTP request.",
                         ["service", "method", "route"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
BOT_DECISIONS = Counter("cs_bot_decisions_total", "The bot's KB decision per turn (answer, clarify, no_answer).",
                        ["decision"], registry=REGISTRY)
HANDOFFS = Counter("cs_handoffs_total", "Escalation records created, by reason and priority.",
                   ["reason", "priority"], registry=REGISTRY)
FEEDBACK = Counter("cs_answer_feedback_total", "有帮助 / 没帮助 marks on bot answers.", ["helpful"],
                   registry=REGISTRY)
ACTIONS = Counter("cs_actions_total", "Custom actions run by the action server.", ["action", "outcome"],
                  registry=REGISTRY)
ACTION_LATENCY = Histogram("cs_action_duration_seconds", "Time to run a custom action.", ["action"],
                           buckets=LATENCY_BUCKETS, registry=REGISTRY)
OPEN_HANDOFFS = Gauge("cs_handoffs_open", "Escalation records not closed, by status.", ["status"],
                      registry=REGISTRY)
SLA_BREACHED = Gauge("cs_sla_breached_open", "Open escalation records past an SLA deadline, by priority "
                     "and stage (first_response, resolution).", ["priority", "stage"], registry=REGISTRY)
SLA_BREACHES = Counter("cs_sla_breaches_total", "First responses made after their deadline, by priority.",
                       ["priority"], registry=REGISTRY)
BOT_UNAVAILABLE = Counter("cs_bot_unavailable_total", "Customer messages answered with the apology + 转人工 "
                          "offer instead of the bot, by cause (rasa: Rasa or the action server failed; "
                          "recovered: left unanswered by a dead gateway, answered by the sweep).",
                          ["cause"], registry=REGISTRY)
KB_INDEX_VERSION = Gauge("cs_kb_index_version", "KB revision the serving search index was built from.",
                         registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    """The text exposition format and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
