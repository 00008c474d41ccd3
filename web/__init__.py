"""Server-rendered pages for people (DSFR), a thin adapter over the services."""
