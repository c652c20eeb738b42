"""Supervisor reports: metrics from stored conversations and handoffs, the reports page and
monthly HTML report, CSV export, unanswered-question mining and demo data."""
