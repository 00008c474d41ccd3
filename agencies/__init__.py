"""Agencies, accreditations, accounts and memberships; départements and regions."""
