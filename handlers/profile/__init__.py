"""Signup and profile: joining, editing, pausing, resuming and leaving the program."""
