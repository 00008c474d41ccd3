"""Referral intake and routing: identification reports, presumed victims, routings,
routing engine."""
