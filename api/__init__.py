"""REST API (DRF): a thin adapter over the services and selectors."""
