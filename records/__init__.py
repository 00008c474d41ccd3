"""What reads a person's whole record across the domain apps and the access log:
the case timeline, the GDPR access export, retention, and who may read the
access log. Above referral, cases and stats; below the adapters
(docs/architecture.md)."""
