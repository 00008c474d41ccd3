"""The statistics follow the domain's events (referral.signals, cases.signals,
identification.signals): each receiver decides which fact rows to refresh, in
the sender's transaction, so the statistics never see a half-applied change.
The domain apps never import stats."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import receiver

from cases.signals import case_changed, step_changed
from identification.signals import identification_changed
from referral.signals import referral_changed

from .dimensions import FACT_STEP_KINDS
from .services import facts_refresh_after_change as facts_refresh


@receiver(referral_changed, dispatch_uid="stats.facts_follow_referrals")
def _referrals_changed(sender: Any, referral_ids: Iterable[int], **kwargs: Any) -> None:
    facts_refresh(referral_ids=referral_ids)


@receiver(case_changed, dispatch_uid="stats.facts_follow_cases")
def _cases_changed(sender: Any, referral_ids: Iterable[int], **kwargs: Any) -> None:
    facts_refresh(referral_ids=referral_ids)


@receiver(step_changed, dispatch_uid="stats.facts_follow_steps")
def _step_changed(
    sender: Any,
    referral_ids: Iterable[int],
    kind: str,
    created: bool,
    fields: frozenset[str],
    **kwargs: Any,
) -> None:
    # Only some kinds of step are counted, and only by their status.
    if kind in FACT_STEP_KINDS and (created or "status" in fields):
        facts_refresh(referral_ids=referral_ids)


@receiver(identification_changed, dispatch_uid="stats.facts_follow_identifications")
def _identifications_changed(sender: Any, referral_ids: Iterable[int], **kwargs: Any) -> None:
    # A file opened, decided, reconsidered or withdrawn: its outcomes and times.
    facts_refresh(referral_ids=referral_ids)
