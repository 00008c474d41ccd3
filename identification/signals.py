"""Events of identification files, received by the apps above (stats).

- ``identification_changed`` (``referral_ids``): a file was opened, decided,
  reconsidered or withdrawn; stats refreshes those referrals' fact rows.

Sent inside the transaction of the change, like every MNR event.
"""

from __future__ import annotations

from django.dispatch import Signal

identification_changed = Signal()
