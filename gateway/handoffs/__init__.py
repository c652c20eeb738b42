"""Escalation records (问题升级单): creation, SLA deadlines, status lifecycle, queue."""
