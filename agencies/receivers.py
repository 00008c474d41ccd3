"""Deactivating an account ends the person's access, however it is done
(the admin's "active" box, a script): the change is seen on the User row."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from . import signals
from .models import User


@receiver(pre_save, sender=User, dispatch_uid="agencies.user_was_active")
def _remember_active(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if (
        instance.pk is None
        or kwargs.get("raw")
        or (update_fields is not None and "is_active" not in update_fields)
    ):
        instance._was_active = None
        return
    instance._was_active = (
        User.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    )


@receiver(post_save, sender=User, dispatch_uid="agencies.user_deactivated")
def _on_deactivated(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_was_active", None) and not instance.is_active:
        signals.access_ended.send(sender=User, user=instance, reason=signals.DEACTIVATED)
