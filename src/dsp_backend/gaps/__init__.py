"""Gaps in service (001 section 15): what is missing, its impact and what was tried, recorded
against a person or on their own, for the governance group to find themes."""
