"""Thin Slack listeners: parse, call bot/ and storage/, render Block Kit."""
