"""The header navigation and the home page's links, by role.

Each entry names a URL (``web:…``) and who sees it, with the same audience
rules as ``web.access.member_required``. Page authors add their entry here
when they add the page (the planned URL names are listed in web/urls.py); a
test reverses every entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agencies.models import STAFF_ROLES, AgencyKind, Membership, Role
from cases.services import SHARE_GRANTEE_ROLES

from .access import member_allowed


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str | Promise
    roles: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)
    description: str | Promise = ""


NAVIGATION: list[NavEntry] = [
    NavEntry(
        "web:referral-new",
        _("New referral"),
        roles=frozenset({Role.REFERRER}),
        description=_("Report a presumed victim of trafficking, step by step, in a few minutes."),
    ),
    NavEntry(
        "web:referral-list",
        _("My referrals"),
        roles=frozenset({Role.REFERRER}),
        description=_("The referrals you filed, their status and the receiving association."),
    ),
    NavEntry(
        "web:shared-case-list",
        _("Cases shared with me"),
        roles=SHARE_GRANTEE_ROLES,
        description=_("Cases an association shared with you, for a purpose and until a date."),
    ),
    NavEntry(
        "web:inbox",
        _("Inbox"),
        roles=STAFF_ROLES,
        kinds=frozenset({AgencyKind.ASSOCIATION}),
        description=_("Referrals routed to your association, by deadline, and transfers."),
    ),
    NavEntry(
        "web:case-list",
        _("Cases"),
        roles=STAFF_ROLES,
        kinds=frozenset({AgencyKind.ASSOCIATION}),
        description=_("Your association's cases and their protection plans."),
    ),
    NavEntry(
        "web:workload",
        _("Workload"),
        roles=frozenset({Role.MANAGER}),
        kinds=frozenset({AgencyKind.ASSOCIATION}),
        description=_("Open cases, overdue steps and pending answers, by caseworker."),
    ),
    NavEntry(
        "web:identification-inbox",
        _("Identification files"),
        roles=frozenset({Role.DECISION_MAKER}),
        kinds=frozenset({AgencyKind.IDENTIFICATION_UNIT}),
        description=_("The files your unit decides: immediate danger and minors first."),
    ),
    NavEntry(
        "web:identification-dashboard",
        _("Unit dashboard"),
        roles=frozenset({Role.DECISION_MAKER}),
        kinds=frozenset({AgencyKind.IDENTIFICATION_UNIT}),
        description=_("Pending files by age, minors, immediate danger, overdue decisions."),
    ),
    NavEntry(
        "admin:index",
        _("Administration"),
        roles=frozenset({Role.ADMIN}),
        kinds=frozenset({AgencyKind.PLATFORM}),
        description=_("Agencies, accreditations, accounts and the access log."),
    ),
    NavEntry(
        "web:escalation-list",
        _("Escalated referrals"),
        roles=frozenset({Role.COORDINATOR}),
        kinds=frozenset({AgencyKind.COORDINATOR}),
        description=_("Referrals no association took: choose one for each."),
    ),
    # Statistics: national for MIPROF and the desk, their association's for a
    # manager (stats.selectors.scope_for); two entries, one audience each.
    NavEntry(
        "web:statistics",
        _("Statistics"),
        roles=frozenset({Role.ANALYST, Role.COORDINATOR}),
        kinds=frozenset({AgencyKind.COORDINATOR}),
        description=_("National figures as charts and tables, the yearly survey, CSV."),
    ),
    NavEntry(
        "web:statistics",
        _("Statistics"),
        roles=frozenset({Role.MANAGER}),
        kinds=frozenset({AgencyKind.ASSOCIATION}),
        description=_("Your association's figures as charts and tables, CSV."),
    ),
]


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str | Promise
    description: str | Promise


def navigation_for(membership: Membership | None) -> list[NavLink]:
    links = []
    for entry in NAVIGATION:
        if not member_allowed(membership, roles=entry.roles, kinds=entry.kinds):
            continue
        links.append(
            NavLink(url=reverse(entry.url_name), label=entry.label, description=entry.description)
        )
    return links
