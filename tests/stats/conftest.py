from tests.referral.conftest import api, world  # noqa: F401
