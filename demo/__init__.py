"""The demo: its agencies, accounts and synthetic referrals, and `manage.py seed_demo`.

It sits above the apps it seeds (agencies, referral, cases, stats) and goes
through their services; none of them imports it.
"""
