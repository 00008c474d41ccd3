"""Referral benchmarks (issue 3): routing decision with 300 accredited
associations; a submission through the API, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mnr_bench \
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python -m benchmarks.referral_bench
"""

from __future__ import annotations

import json
import random

from benchmarks.common import measure, setup_django, show

ASSOCIATIONS = 300


def build_world(rng: random.Random):
    from datetime import date

    from agencies import services
    from agencies.models import Departement
    from common.choices import ExploitationForm, Public

    deps = list(Departement.objects.all())
    forms = list(ExploitationForm.values)
    for i in range(ASSOCIATIONS):
        seat = rng.choice(deps)
        asso = services.agency_create(
            actor=None, name=f"Association {i:03d}", kind="association", departement=seat
        )
        national = rng.random() < 0.15
        services.accreditation_create(
            actor=None,
            association=asso,
            valid_from=date(2024, 1, 1),
            valid_until=date(2028, 12, 31) if rng.random() < 0.9 else date(2025, 12, 31),
            exploitation_forms=rng.sample(forms, k=rng.randint(1, len(forms))),
            publics=rng.sample(list(Public.values), k=rng.randint(1, 3)),
            national=national,
            departements=[] if national else rng.sample(deps, k=rng.randint(1, 8)),
            capacity=rng.choice([None, 20, 50, 100]),
            secure_relocation=rng.random() < 0.2,
        )
        if i < 3:
            services.user_create(
                actor=None,
                username=f"worker{i}",
                password="bench-password-123",
                agency=asso,
                role="caseworker",
            )
    police = services.agency_create(
        actor=None,
        name="Police bench",
        kind="frontline",
        sector="police",
        departement=Departement.objects.get(code="75"),
    )
    return services.user_create(
        actor=None,
        username="bench.referrer",
        password="bench-password-123",
        agency=police,
        role="referrer",
    )


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from referral import routing_engine, services

    rng = random.Random(7)
    referrer = build_world(rng)
    today = timezone.localdate()

    print(
        f"PostgreSQL, {ASSOCIATIONS} accredited associations; broker: "
        f"{'Redis' if settings.REDIS_URL else 'in-process'}"
    )

    # 1. The pure routing decision (engine only, facts already loaded).
    associations = services.association_facts(today=today)
    loads = {a.id: rng.randint(0, 30) for a in associations}
    deps = ["75", "93", "13", "69", "59", "971", "2A"]
    facts = [
        routing_engine.ReferralFacts(
            forms=frozenset(
                rng.sample(
                    [
                        "sexual_exploitation",
                        "labour_exploitation",
                        "forced_begging",
                        "forced_criminality",
                    ],
                    k=2,
                )
            ),
            public=rng.choice(["minors", "adult_women", "adult_men", "adults"]),
            departement=(d := rng.choice(deps)),
            region=None,
            exploitation_departement=d,
            needs_relocation=rng.random() < 0.3,
            today=today,
        )
        for _ in range(50)
    ]
    show(
        "routing decision, engine only (300 associations)",
        measure(lambda i: routing_engine.rank(facts[i % 50], associations, open_cases=loads), 2000),
        target_ms=5,
    )

    # 2. The whole decision with its reads: associations, accreditations, loads.
    from referral.models import Referral

    data = services.ReferralInput(
        exploitation_forms=["sexual_exploitation"],
        consent_to_referral=True,
        exploitation_departement="75",
        person=services.PersonInput(
            given_name="A", family_name="B", sex="female", current_departement="93"
        ),
    )
    referral, _ = services.referral_submit(actor=referrer, data=data)
    referral = Referral.objects.select_related("person").get(pk=referral.pk)

    def decide(_: int) -> None:
        routing_engine.rank(
            services.referral_facts(referral, today=today),
            services.association_facts(today=today),
            open_cases=services.open_case_counts(),
        )

    show("routing decision with its database reads (300 associations)", measure(decide, 300))

    # 3. A submission through the API (Django test client, in-process WSGI).
    from agencies.services import token_issue

    _, key = token_issue(user=referrer)
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {key}")
    body = {
        "exploitation_forms": ["sexual_exploitation", "labour_exploitation"],
        "exploitation_departement": "75",
        "indicators": ["coercion_at_destination.debt_bondage"],
        "needs": ["shelter"],
        "narrative": "Benchmark.",
        "consent_to_referral": True,
        "person": {
            "given_name": "Bench",
            "family_name": "Mark",
            "date_of_birth": "1990-01-01",
            "sex": "female",
            "nationality": "NG",
            "current_departement": "93",
        },
    }

    def submit(i: int) -> None:
        payload = dict(body, person=dict(body["person"], family_name=f"Mark{i}"))
        r = client.post("/api/v1/referrals/", json.dumps(payload), content_type="application/json")
        assert r.status_code == 201, r.content

    show(
        "submission through the API (POST /api/v1/referrals/, token auth)",
        measure(submit, 300),
        target_ms=50,
    )


if __name__ == "__main__":
    main()
