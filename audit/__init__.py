"""Audit: history wiring, hash-chained access log, timeline, verification."""
