"""Pairing: the optimal assignment, introductions, re-matching and unpairing."""
