"""Bring existing rows to the grants that now decide everything (issue 12):
authors gain withdraw on their referrals (only while they still are an active
referrer of the referring agency; others lose their author grant), the
coordination desk's group gains view + assign on referrals it follows, the
association a pending transfer is asked of gains decide_transfer, and
coordinators join the desk's group."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import F

DESK_GROUP_NAME = "MNR coordination desk"
DESK_STATUSES = ("escalated", "routed", "submitted")


def forwards(apps, schema_editor):
    for label in ("referral", "cases"):
        # Permissions are otherwise created after migrate; historical app configs
        # have no models module, which create_permissions needs set.
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    Membership = apps.get_model("agencies", "Membership")
    User = apps.get_model("agencies", "User")
    Referral = apps.get_model("referral", "Referral")
    RUser = apps.get_model("referral", "ReferralUserObjectPermission")
    RGroup = apps.get_model("referral", "ReferralGroupObjectPermission")
    Transfer = apps.get_model("cases", "Transfer")
    CGroup = apps.get_model("cases", "CaseGroupObjectPermission")

    def perm(app, codename):
        return Permission.objects.get(content_type__app_label=app, codename=codename)

    view, withdraw = perm("referral", "view_referral"), perm("referral", "withdraw_referral")
    assign, decide = perm("referral", "assign_referral"), perm("cases", "decide_transfer")

    trusted = Referral.objects.filter(
        referring_user__is_active=True,
        referring_user__membership__role="referrer",
        referring_user__membership__agency=F("referring_agency"),
    ).values_list("pk", "referring_user_id")
    trusted_pairs = set(trusted)
    for referral_id, user_id in RUser.objects.values_list("content_object_id", "user_id"):
        if (referral_id, user_id) not in trusted_pairs:
            RUser.objects.filter(content_object_id=referral_id, user_id=user_id).delete()
    RUser.objects.bulk_create(
        [
            RUser(content_object_id=r, user_id=u, permission=p)
            for r, u in trusted_pairs
            for p in (view, withdraw)
        ],
        ignore_conflicts=True,
    )

    desk, _ = Group.objects.get_or_create(name=DESK_GROUP_NAME)
    followed = Referral.objects.filter(escalated_at__isnull=False, status__in=DESK_STATUSES)
    RGroup.objects.bulk_create(
        [
            RGroup(content_object_id=r, group_id=desk.pk, permission=p)
            for r in followed.values_list("pk", flat=True)
            for p in (view, assign)
        ],
        ignore_conflicts=True,
    )
    for user_id in Membership.objects.filter(role="coordinator").values_list("user_id", flat=True):
        User.groups.through.objects.get_or_create(user_id=user_id, group_id=desk.pk)

    CGroup.objects.bulk_create(
        [
            CGroup(content_object_id=case_id, group_id=group_id, permission=decide)
            for case_id, group_id in Transfer.objects.filter(status="pending").values_list(
                "case_id", "to_association__group_id"
            )
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_shares_and_grants"),
        ("referral", "0003_grant_permissions"),
        ("agencies", "0002_reference_data_and_kind_keys"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
