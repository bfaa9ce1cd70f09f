"""Alembic's environment for the schema: env.py, the revisions in versions/, and the template
for new ones. storage/migrations.py configures and runs it in code (no alembic.ini)."""
