"""Paused referral drafts: kept against a short resume code for the variant's retention, then deleted."""
