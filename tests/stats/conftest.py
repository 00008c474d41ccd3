import pytest

from stats.services import stats_publish
from tests.identification.conftest import units  # noqa: F401
from tests.referral.conftest import api, world  # noqa: F401


@pytest.fixture
def exact(settings):
    """Figures as counted (threshold 1, no perturbation): for tests of what is
    counted, not of how it is protected. Production refuses these settings
    (stats.checks)."""
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    settings.MNR_STATS_PERTURB = False


def publish():
    """What the monthly job does: releases read the publication."""
    return stats_publish()


def shown(rows, name):
    """{value: figure} of the rows whose figure is shown."""
    return {r[name]: r["count"] for r in rows if r["count"] is not None}
