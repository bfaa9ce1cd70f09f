"""Cohorts: admins run the program as a sequence of cohorts; at a cohort's end its pairs
choose to continue into the next one or to close, and people who were in no pair may carry
over to the next cohort's pool."""
