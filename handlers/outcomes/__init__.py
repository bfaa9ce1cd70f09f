"""Objectives and outcomes: the midpoint and end questions, and a leader's one change."""
