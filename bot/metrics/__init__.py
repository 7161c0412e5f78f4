"""Prometheus metrics and a health check, served on METRICS_ADDR (off by default).

`collectors` defines what is measured (queries, events per feature, Discord REST calls,
lanes, matches, event-loop lag, connections in use); `server` serves `/metrics` and `/healthz`.
"""
