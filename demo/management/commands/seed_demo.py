"""Load the demo's agencies, accreditations and accounts, and synthetic referrals
(with their identification files).

Idempotent: a second run finds everything as it should be and writes nothing.
Refused outside demo mode (it creates accounts with a published password).
Says in a few lines what it created; the in-process tasks' "succeeded" lines
stay out of the console (config/settings.py, LOGGING).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test import override_settings

from agencies import services
from agencies.models import Accreditation, Agency, Departement, User
from agencies.selectors import membership_of
from agencies.system import system_user
from cases.models import Case
from demo import agencies as demo
from demo import referrals as referral_demo
from identification.models import Identification
from stats.services import facts_deferred, stats_publish


class Command(BaseCommand):
    help = "Load the demo's agencies, accounts and synthetic referrals (demo mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--referrals", type=int, default=360, help="Synthetic referrals to add (once)."
        )
        parser.add_argument(
            "--no-referrals", action="store_true", help="Only agencies and accounts."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when neither MNR_DEMO_MODE nor DJANGO_DEBUG is on.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.MNR_DEMO_MODE or settings.DEBUG or options["force"]):
            raise CommandError(
                "seed_demo creates accounts with a published password: run it only with "
                "MNR_DEMO_MODE=true (or DJANGO_DEBUG=true), or pass --force."
            )
        # Changes made by this command are recorded under the named system user.
        self.actor = system_user()
        self.verbosity = options["verbosity"]
        self.created: dict[str, int] = {"agencies": 0, "accreditations": 0, "accounts": 0}
        self.updated: dict[str, int] = dict.fromkeys(self.created, 0)
        with transaction.atomic():
            agencies = {spec["key"]: self._agency(spec) for spec in demo.AGENCIES}
            for spec in demo.AGENCIES:
                if "accreditation" in spec:
                    self._accreditation(agencies[spec["key"]], spec["accreditation"])
            for spec in demo.USERS:
                self._user(spec, agencies[spec["agency"]])
        made_now, changed = self.created, self.updated
        self._say(
            f"Agencies: {made_now['agencies']} created, {changed['agencies']} updated; "
            f"accreditations: {made_now['accreditations']} created, "
            f"{changed['accreditations']} updated; "
            f"accounts: {made_now['accounts']} created, {changed['accounts']} updated."
        )
        made = 0
        if options["no_referrals"]:
            self._say("Synthetic referrals: skipped (--no-referrals).")
        elif referral_demo.already_seeded():
            self._say("Synthetic referrals: already there, none added.")
        else:
            # Synthetic referrals only once; their notifications go nowhere.
            quiet = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
            # Each referral's statistics row is computed once, at the end.
            with quiet, transaction.atomic(), facts_deferred():
                made = referral_demo.seed_referrals(count=options["referrals"])
            # The statistics show the last publication: publish the demo's figures.
            stats_publish()
            cases = Case.objects.count()
            closed = Case.objects.filter(status="closed").count()
            files = Identification.objects.count()
            self._say(
                f"Synthetic referrals: {made} added ({cases} cases, {closed} of them closed; "
                f"{files} identification files); statistics published."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready at {settings.MNR_PUBLIC_URL}/: {len(demo.AGENCIES)} agencies, "
                f"{len(demo.USERS)} accounts (password {demo.DEMO_PASSWORD}); "
                f"{made} synthetic referrals added."
            )
        )

    def _say(self, line: str) -> None:
        if self.verbosity:
            self.stdout.write(line)

    def _agency(self, spec: dict) -> Agency:
        wanted = {
            "kind": spec["kind"],
            "sector": spec.get("sector", ""),
            "departement": (
                Departement.objects.get(code=spec["departement"]) if spec["departement"] else None
            ),
            "contact_email": spec.get("contact_email", ""),
            "active": True,
        }
        agency = Agency.objects.filter(name=spec["name"]).first()
        if agency is None:
            self.created["agencies"] += 1
            return services.agency_create(actor=self.actor, name=spec["name"], **wanted)
        changes = {k: v for k, v in wanted.items() if getattr(agency, k) != v}
        if changes:
            self.updated["agencies"] += 1
            agency = services.agency_update(actor=self.actor, agency=agency, **changes)
        return agency

    def _accreditation(self, association: Agency, spec: dict) -> None:
        wanted = {
            **spec,
            "departements": list(Departement.objects.filter(code__in=spec["departements"])),
        }
        accreditation = Accreditation.objects.filter(
            association=association, valid_from=spec["valid_from"]
        ).first()
        if accreditation is None:
            self.created["accreditations"] += 1
            services.accreditation_create(actor=self.actor, association=association, **wanted)
            return
        current = {k: getattr(accreditation, k) for k in spec if k != "departements"}
        current["departements"] = sorted(d.code for d in accreditation.departements.all())
        normalised = {
            **spec,
            "exploitation_forms": sorted(spec["exploitation_forms"]),
            "publics": sorted(spec["publics"]),
            "languages": sorted(spec["languages"]),
            "departements": sorted(spec["departements"]),
        }
        if current != normalised:
            self.updated["accreditations"] += 1
            services.accreditation_update(actor=self.actor, accreditation=accreditation, **wanted)

    def _user(self, spec: dict, agency: Agency) -> None:
        # Decision-makers of identification units trained for children.
        children = spec.get("children_trained", False)
        user = User.objects.filter(username=spec["username"]).first()
        if user is None:
            self.created["accounts"] += 1
            user = services.user_create(
                actor=self.actor,
                username=spec["username"],
                password=demo.DEMO_PASSWORD,
                agency=agency,
                role=spec["role"],
                email=f"{spec['username']}@demo.mnr.invalid",
            )
            if children:
                services.membership_set(
                    actor=self.actor,
                    user=user,
                    agency=agency,
                    role=spec["role"],
                    children_trained=True,
                )
            return
        changed = False
        if not user.check_password(demo.DEMO_PASSWORD):
            user.set_password(demo.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            changed = True
        membership = membership_of(user)
        if (
            membership is None
            or membership.agency_id != agency.pk
            or membership.role != spec["role"]
            or membership.children_trained != children
        ):
            changed = True
            services.membership_set(
                actor=self.actor,
                user=user,
                agency=agency,
                role=spec["role"],
                children_trained=children,
            )
        self.updated["accounts"] += changed
