"""SQLModel tables and keyword-only repository functions that take a session."""
