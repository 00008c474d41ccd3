"""Deactivating an account ends the person's access, however it is done
(the admin's "active" box, a script): the change is seen on the User row.
So is a password change (``set_password`` from the admin, a form, a script,
or the password made unusable): it revokes the person's API tokens. And when
``access_ended`` is sent (deactivation, membership moved, role changed or
membership removed), the person's API tokens are revoked too."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from . import signals
from .models import User
from .services import tokens_revoke_all


@receiver(pre_save, sender=User, dispatch_uid="agencies.user_was_active")
def _remember_active(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    instance._was_active = None
    instance._password_changed = False
    if (
        instance.pk is None
        or kwargs.get("raw")
        or (update_fields is not None and not {"is_active", "password"} & set(update_fields))
    ):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("is_active", "password").first()
    if stored is None:
        return
    instance._was_active = stored[0]
    # set_password() leaves the raw password in _password until the save ends;
    # a hash upgrade at sign-in does not (Django clears it), so it is no change.
    instance._password_changed = stored[1] != instance.password and (
        instance._password is not None or not instance.has_usable_password()
    )


@receiver(post_save, sender=User, dispatch_uid="agencies.user_deactivated")
def _on_deactivated(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_was_active", None) and not instance.is_active:
        signals.access_ended.send(sender=User, user=instance, reason=signals.DEACTIVATED)


@receiver(post_save, sender=User, dispatch_uid="agencies.user_password_changed")
def _on_password_changed(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_password_changed", False):
        instance._password_changed = False
        tokens_revoke_all(user=instance, actor=None, reason="password_changed")


@receiver(signals.access_ended, dispatch_uid="agencies.access_ended_revoke_tokens")
def _revoke_tokens(sender: Any, user: User, reason: str, **kwargs: Any) -> None:
    tokens_revoke_all(user=user, actor=None, reason=reason)
