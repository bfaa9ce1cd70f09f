"""The schema's revisions, oldest first by number. Never edit one that has shipped: add the
next one (python -m storage.revision "what changes")."""
