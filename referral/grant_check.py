"""Grants that disagree with ownership (DESIGN §5, `manage.py check_grants`).

Expected: the author holds view on their referral; an association with a pending
routing holds view + respond; the association owning its case holds view; no
other group holds anything on a referral; the owning association holds view +
change on its case and no other group holds anything on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from cases.models import Case, CaseGroupObjectPermission, CaseUserObjectPermission

from .models import (
    Referral,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
    Routing,
    RoutingOutcome,
)


def _expected_referral_group_grants() -> dict[tuple[int, int], set[str]]:
    expected: dict[tuple[int, int], set[str]] = defaultdict(set)
    pending = Routing.objects.filter(outcome=RoutingOutcome.PENDING).values_list(
        "referral_id", "association__group_id"
    )
    for referral_id, group_id in pending:
        expected[(referral_id, group_id)] |= {"view_referral", "respond_referral"}
    # After acceptance the case's owner sees the referral (a transfer moves it).
    for referral_id, group_id in Case.objects.values_list("referral_id", "association__group_id"):
        expected[(referral_id, group_id)].add("view_referral")
    return expected


def grant_problems() -> Iterator[str]:
    # Referrals: user grants.
    authors = dict(Referral.objects.values_list("pk", "referring_user_id"))
    held_by_author: set[int] = set()
    for referral_id, user_id, codename in ReferralUserObjectPermission.objects.values_list(
        "content_object_id", "user_id", "permission__codename"
    ):
        if authors.get(referral_id) == user_id and codename == "view_referral":
            held_by_author.add(referral_id)
        else:
            yield f"referral {referral_id}: user {user_id} holds {codename} but is not its author"
    for referral_id in sorted(set(authors) - held_by_author):
        yield f"referral {referral_id}: its author has lost view_referral"

    # Referrals: group grants.
    expected = _expected_referral_group_grants()
    held: dict[tuple[int, int], set[str]] = defaultdict(set)
    for referral_id, group_id, codename in ReferralGroupObjectPermission.objects.values_list(
        "content_object_id", "group_id", "permission__codename"
    ):
        held[(referral_id, group_id)].add(codename)
    for key in sorted(set(expected) | set(held)):
        extra = held.get(key, set()) - expected.get(key, set())
        missing = expected.get(key, set()) - held.get(key, set())
        referral_id, group_id = key
        for codename in sorted(extra):
            yield f"referral {referral_id}: group {group_id} holds {codename} without a routing"
        for codename in sorted(missing):
            yield f"referral {referral_id}: group {group_id} lacks {codename} for its routing"

    # Cases.
    owners = dict(Case.objects.values_list("pk", "association__group_id"))
    case_held: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for case_id, group_id, codename in CaseGroupObjectPermission.objects.values_list(
        "content_object_id", "group_id", "permission__codename"
    ):
        case_held[case_id][group_id].add(codename)
    for case_id, owner_group in sorted(owners.items()):
        groups = case_held.get(case_id, {})
        for group_id, codenames in sorted(groups.items()):
            if group_id != owner_group:
                yield f"case {case_id}: group {group_id} holds {sorted(codenames)} but does not own it"
        missing = {"view_case", "change_case"} - groups.get(owner_group, set())
        for codename in sorted(missing):
            yield f"case {case_id}: the owning association lacks {codename}"
    for case_id, user_id, codename in CaseUserObjectPermission.objects.values_list(
        "content_object_id", "user_id", "permission__codename"
    ):
        yield f"case {case_id}: user {user_id} holds {codename} directly (grants go to groups)"
