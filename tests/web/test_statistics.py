"""The statistics dashboard and its CSV download, through Django's test client:
who sees which figures (as the API), suppressed cells shown as suppressed,
CSV identical to the API's, every release logged, bad parameters as field
errors, and no person's name in any answer."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from audit.models import AccessAction, AccessLog
from referral.models import Referral
from stats import cellkey
from stats.dimensions import DIMENSIONS
from stats.services import stats_publish
from tests.helpers import login_with_second_factor
from tests.referral import conftest as referral_world
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, body

pytestmark = pytest.mark.django_db

world = referral_world.world
api = referral_world.api

URL = "/statistics/"
CSV = "/statistics/export.csv"
YEAR = str(date.today().year)
NAMES = ["Zanzibarova", "Quetzalina", "Okonkwoshi", "Brumbledore", "Xyloquinn", "Vantablack"]


@pytest.fixture
def client() -> Client:
    return Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")


def as_(client: Client, user) -> Client:
    login_with_second_factor(client, user)
    return client


@pytest.fixture
def data(api, world):
    """Twelve adult women (sexual exploitation, routed to Paris), four minors
    (forced criminality, routed to the minors' association, one accepted there),
    two adult men (labour exploitation); one of the women accepted by Paris.
    Distinctive names, to be searched for in every answer."""
    for i in range(12):
        api.submitted(
            world.referrer,
            body(ADULT_BODY, person={"family_name": f"{NAMES[0]}{i}", "given_name": NAMES[1]}),
        )
    for i in range(4):
        api.submitted(
            world.other_referrer,
            body(MINOR_BODY, person={"family_name": f"{NAMES[2]}{i}", "given_name": NAMES[3]}),
        )
    for i in range(2):
        api.submitted(
            world.referrer,
            body(
                ADULT_BODY,
                exploitation_forms=["labour_exploitation"],
                person={"sex": "male", "family_name": f"{NAMES[4]}{i}", "given_name": NAMES[5]},
            ),
        )
    paris = api.get(world.paris_worker, "/api/v1/routings/?outcome=pending").json()["results"]
    assert api.post(world.paris_worker, f"/api/v1/routings/{paris[0]['id']}/accept/").status_code
    minors = api.get(world.minors_worker, "/api/v1/routings/?outcome=pending").json()["results"]
    api.post(world.minors_worker, f"/api/v1/routings/{minors[0]['id']}/accept/")
    stats_publish()


def table_rows(html: str, key: str) -> list[list[str]]:
    """The body rows of the table ``table-<key>``, cells as text."""
    block = html.split(f'id="table-{key}"', 1)[1].split("</table>", 1)[0]
    tbody = block.split("<tbody>", 1)[1]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


def shown_rows(html: str, key: str) -> list[list[str]]:
    """The rows whose figure is shown (the grid lists every category)."""
    return [r for r in table_rows(html, key) if r[-1] != "statistical secrecy"]


def chart(html: str, key: str) -> str:
    return html.split(f'id="chart-{key}"', 1)[1].split("</svg>", 1)[0]


def test_the_analyst_sees_national_figures_for_a_crossing(client, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    r = as_(client, world.analyst).get(URL, {"measure": "referrals", "by": "sex"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "National figures" in html
    assert table_rows(html, "crossing") == [
        ["Female", "12"],
        ["Male", "6"],
        ["Other", "statistical secrecy"],
        ["Unknown", "statistical secrecy"],
    ]
    assert "Figures as published on" in html and "at most 5 either way" in html
    svg = chart(html, "crossing")
    assert 'role="img"' in svg and "<title" in svg and svg.count("<rect") == 2
    assert not re.search(r'\sstyle="', html) and "<style" not in html
    assert f"{CSV}?" in html  # the same crossing as CSV
    # Both releases read (the survey and the crossing) are logged as the API logs them.
    logged = AccessLog.objects.filter(action=AccessAction.STATS_EXPORT, actor=world.analyst)
    assert {(e.target_type, e.target_id) for e in logged} == {
        ("stats", "referrals"),
        ("stats-report", "survey"),
    }
    crossing = logged.get(target_type="stats")
    assert crossing.detail == {
        "by": ["sex"],
        "period": None,
        "filters": {},
        "privacy": "cell-key",
        "published_at": crossing.detail["published_at"],
    }
    assert crossing.detail["published_at"]


def test_the_survey_report_is_shown_for_the_chosen_year(client, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    html = as_(client, world.coordinator).get(URL, {"year": YEAR}).content.decode()
    rows = {r[0]: r[1] for r in table_rows(html, "identified_by_form")}
    assert rows["Sexual exploitation"] == "12" and rows["Forced criminality"] == "4"
    for key in ("supported_by_form", "sex_by_form", "minors_by_form", "complaint_filed"):
        assert f'id="chart-{key}"' in html
    assert 'id="crossing-result"' not in html  # no crossing asked for
    entry = AccessLog.objects.get(action=AccessAction.STATS_EXPORT)
    assert entry.target_id == "survey" and entry.detail == {"period": YEAR}
    # Another year: nothing counted, and said so.
    empty = client.get(URL, {"year": str(int(YEAR) - 3)}).content.decode()
    assert 'id="empty-identified_by_form"' in empty


def test_filters_and_period_reach_the_selector(client, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    as_(client, world.analyst)
    html = client.get(
        URL, {"measure": "referrals", "by": "exploitation_form", "sex": "male", "period": YEAR}
    ).content.decode()
    assert shown_rows(html, "crossing") == [
        [
            "Labour exploitation (forced labour or services, work or housing contrary to dignity)",
            "2",
        ],
        ["Forced criminality", "4"],
    ]
    none = client.get(URL, {"measure": "referrals", "by": "sex", "period": "2001"})
    assert 'id="empty-crossing"' in none.content.decode()


def test_a_manager_sees_their_association_only(client, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    as_(client, world.paris_manager)
    html = client.get(URL, {"measure": "cases", "by": "exploitation_form"}).content.decode()
    assert "Figures of your association" in html and world.paris.name in html
    # The minors' association's case (forced criminality) is not Paris's.
    assert shown_rows(html, "crossing") == [["Sexual exploitation", "1"]]
    referrals = client.get(URL, {"measure": "referrals", "by": "minor"}).content.decode()
    assert shown_rows(referrals, "crossing") == [["No", "14"]]  # the adults routed to Paris
    survey = {r[0]: r[1] for r in table_rows(html, "identified_by_form")}  # same page, same scope
    assert survey["Forced criminality"] == "statistical secrecy"


@pytest.mark.parametrize("who", ["referrer", "paris_worker", "minors_worker", "admin"])
def test_other_roles_are_refused_and_logged(client, world, who):
    user = getattr(world, who)
    as_(client, user)
    for url in (URL, f"{URL}?by=sex&measure=referrals", f"{CSV}?by=sex&measure=referrals"):
        assert client.get(url).status_code == 403, (who, url)
    assert AccessLog.objects.filter(action=AccessAction.REFUSAL, actor=user).count() == 3
    assert not AccessLog.objects.filter(action=AccessAction.STATS_EXPORT).exists()


def test_anonymous_goes_to_sign_in(client):
    r = client.get(URL)
    assert r.status_code == 302 and r.url.startswith("/sign-in/")


def test_suppressed_cells_are_shown_as_suppressed(client, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 10
    html = (
        as_(client, world.analyst).get(URL, {"measure": "referrals", "by": "sex"}).content.decode()
    )
    # Each figure is its true count perturbed by at most 5, by a function of the
    # referrals' record keys (their ids): 12 women and 6 men may each land on
    # either side of 10, so the expected page is computed from the same rule.
    # Nobody of other or unknown sex: secrecy, never 0.
    expected = {}
    for sex, label in (("female", "Female"), ("male", "Male")):
        ids = list(Referral.objects.filter(person__sex=sex).values_list("pk", flat=True))
        figure = cellkey.published(len(ids), sum(cellkey.record_key(pk) for pk in ids))
        assert figure is None or abs(figure - len(ids)) <= 5
        expected[label] = "statistical secrecy" if figure is None else str(figure)
    if set(expected.values()) == {"statistical secrecy"}:
        assert 'id="empty-crossing"' in html and 'id="table-crossing"' not in html
        return
    rows = dict(table_rows(html, "crossing"))
    assert rows == {**expected, "Other": "statistical secrecy", "Unknown": "statistical secrecy"}
    svg = chart(html, "crossing")
    secret = sum(1 for v in rows.values() if v == "statistical secrecy")
    assert svg.count(">statistical secrecy</text>") == secret >= 2  # never a bar, never 0
    assert svg.count("<rect") == len(rows) - secret
    totals = html.split('id="totals-crossing"', 1)[1].split("</table>", 1)[0]
    total = re.findall(r'mnr-stat-count">(\d+)<', totals)
    assert total and abs(int(total[0]) - 18) <= 5
    assert "figures under 10 are not shown" in html


def test_the_csv_is_the_apis_csv(client, api, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 3
    query = {
        "measure": "cases",
        "by": "exploitation_form",
        "by_2": "minor",
        "period": YEAR,
        "sex": "female",
    }
    web = as_(client, world.analyst).get(CSV, query)
    assert web.status_code == 200
    assert web["Content-Type"] == "text/csv; charset=utf-8"
    assert web["Content-Disposition"].startswith("attachment;")
    from_api = api.get(
        world.analyst,
        f"/api/v1/stats/cases/?by=exploitation_form,minor&period={YEAR}&sex=female&format=csv",
    )
    assert from_api.status_code == 200
    assert web.content == from_api.content
    assert web.content.decode().splitlines()[0] == "exploitation_form,minor,count,suppressed"
    # Logged as the API logs it: two identical entries, one per download.
    details = [
        (e.target_id, e.detail)
        for e in AccessLog.objects.filter(action=AccessAction.STATS_EXPORT).order_by("pk")
    ]
    assert len(details) == 2 and details[0] == details[1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"measure": "referrals", "by": "shoe_size"}, "by"),
        ({"measure": "referrals", "by": "sex", "by_2": "sex"}, "by"),
        ({"measure": "referrals", "by": ""}, "by"),
        ({"measure": "referrals", "by": "sex", "period": "25"}, "period"),
        ({"measure": "referrals", "by": "sex", "period": "2025-Q5"}, "period"),
        ({"measure": "crimes", "by": "sex"}, "measure"),
    ],
)
def test_bad_crossing_parameters_are_field_errors(client, world, data, query, field):
    as_(client, world.analyst)
    for url in (URL, CSV):
        r = client.get(url, query)
        assert r.status_code == 400, (url, r.status_code)
        assert field in r.context["form"].errors, r.context["form"].errors
        assert r["Content-Type"].startswith("text/html")
        assert 'id="error-summary"' in r.content.decode()
    assert not AccessLog.objects.filter(
        action=AccessAction.STATS_EXPORT, target_type="stats"
    ).exists()


@pytest.mark.parametrize("year", ["20x5", "1"])
def test_a_bad_survey_year_is_a_field_error(client, world, year):
    r = as_(client, world.analyst).get(URL, {"year": year})
    assert r.status_code == 400
    assert "year" in r.context["survey_form"].errors
    assert not AccessLog.objects.filter(action=AccessAction.STATS_EXPORT).exists()


def test_a_csv_without_parameters_is_the_page_with_errors(client, world):
    r = as_(client, world.analyst).get(CSV)
    assert r.status_code == 400 and "by" in r.context["form"].errors


def test_no_dashboard_answer_holds_a_persons_name(client, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    as_(client, world.analyst)
    texts = [client.get(URL, {"year": YEAR}).content]
    for name in DIMENSIONS:
        for measure in ("referrals", "cases"):
            query = {"measure": measure, "by": name, "by_2": "sex" if name != "sex" else ""}
            texts.append(client.get(URL, query).content)
            texts.append(client.get(CSV, query).content)
    blob = b"\n".join(texts).decode()
    for secret in [*NAMES, "1999-04-02", "+33 6"]:
        assert secret not in blob, secret


def test_the_analyst_and_the_manager_have_the_statistics_in_their_navigation(client, world):
    for user in (world.analyst, world.coordinator, world.paris_manager):
        text = as_(client, user).get("/").content.decode()
        assert f'href="{URL}"' in text, user
    for user in (world.paris_worker, world.referrer):
        text = as_(client, user).get("/").content.decode()
        assert f'href="{URL}"' not in text, user
