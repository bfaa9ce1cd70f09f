"""Preparation guides: a short guide in a DM before each person's first session."""
