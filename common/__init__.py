"""Small pieces shared by every domain app (domain errors). Not a Django app."""
