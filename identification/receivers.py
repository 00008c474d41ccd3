"""What identification does when referrals and cases change (docs/architecture.md,
"Events"): it opens the file of a routed referral, withdraws it with the
referral, and shows the recovery period on a case opened after a positive
preliminary decision."""

from __future__ import annotations

from django.dispatch import receiver

from referral import signals as referral_signals

from . import services
from .models import Identification


@receiver(referral_signals.referral_routed)
def open_file(sender, *, referral, now, **kwargs) -> None:
    services.identification_open(referral=referral, now=now)


@receiver(referral_signals.referral_withdrawn)
def withdraw_file(sender, *, referral, actor, now, **kwargs) -> None:
    services.identification_withdraw_for_referral(referral=referral, actor=actor, now=now)


@receiver(referral_signals.routing_accepted)
def show_recovery_on_new_case(sender, *, referral, actor, **kwargs) -> None:
    # Runs after cases' receiver (cases is installed before identification), so
    # the case exists.
    identification = Identification.objects.filter(
        referral=referral, recovery_starts_on__isnull=False
    ).first()
    if identification is not None:
        services.show_recovery_on_plan(identification, actor=actor)
