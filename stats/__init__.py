"""Anonymised statistics for MIPROF: dimensions, disclosure control, CSV."""
