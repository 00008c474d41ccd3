"""Events of cases, received by the apps above (stats): cases/ never imports
them.

Like agencies.signals, each is sent inside the transaction of the change, and
its receivers run in that transaction.

- ``case_changed`` (``referral_ids``): cases moved to another association (a
  transfer accepted), named by their referrals;
- ``step_changed`` (``referral_ids``, ``kind``, ``created``, ``fields``): a
  protection step of these referrals' case was added (``created``) or changed
  (``fields``: the names the change asked for).
"""

from __future__ import annotations

from django.dispatch import Signal

case_changed = Signal()
step_changed = Signal()
