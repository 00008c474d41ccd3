"""Web views: thin adapters over the domain services and selectors.

One module per area (auth.py, home.py; referrals.py, associations.py,
coordination.py, statistics.py for the role pages). A view checks who the page
is for (web.access), calls a selector or a service (through
web.errors.run_service when a form is involved) and renders a template that
extends "web/base.html". It never holds a rule of its own.
"""
