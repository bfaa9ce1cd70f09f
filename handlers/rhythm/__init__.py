"""The rhythm: sessions and their dates, prompts, check-ins, nudges, escalations, fit."""
