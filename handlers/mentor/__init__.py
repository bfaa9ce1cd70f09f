"""`/mentor` itself: the sub-command dispatch table, the help, and the answer to a DM."""
