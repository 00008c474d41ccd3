"""Signals of the ground floor, received by the domain apps above it.

``access_ended`` is sent, inside the transaction of the change, when a person's
reason to be trusted ends or changes: their membership moves to another agency,
their role changes, their membership is removed, or their account is
deactivated. Receivers end what that person held on their own (per-object
grants in referral/ and cases/, API tokens in agencies/): agencies/ never
imports the apps above it.

Arguments: ``user`` (the person), ``reason`` (one of ``REASONS``).
"""

from __future__ import annotations

from django.dispatch import Signal

MOVED = "membership_moved"
ROLE_CHANGED = "role_changed"
REMOVED = "membership_removed"
DEACTIVATED = "deactivated"
REASONS = (MOVED, ROLE_CHANGED, REMOVED, DEACTIVATED)

access_ended = Signal()
