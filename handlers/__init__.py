"""Slack-facing code: one package per feature, each with the same parts (listeners.py with
its register(), use_cases.py, messages.py for what it sends through the outbox, blocks.py),
standing on the shared plumbing in core/. app.py registers them, in order."""
