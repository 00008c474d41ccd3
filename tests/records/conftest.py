from tests.cases.conftest import ADULT_BODY, MINOR_BODY, accept, body, open_case  # noqa: F401
from tests.referral.conftest import api, world  # noqa: F401
