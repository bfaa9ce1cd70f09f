"""What a new pair is told: ground rules and a first agenda built from what they share."""

from __future__ import annotations

from collections.abc import Sequence

from bot.profiles import TOPICS

GROUND_RULES = (
    "What is said in the pair stays in the pair.",
    "Both sides learn: the mentor shares how things look from their seat, "
    "the leader shares career perspective back.",
)

# One opening question per topic, asked by the junior mentor in the first conversation.
_TOPIC_OPENERS: dict[str, str] = {
    "ai": "Which AI tool has changed how you work this year, and what would you try next?",
    "social": "Which social platforms do our customers and new hires really use, and how?",
    "inclusion": "What makes a team feel inclusive from day one, and what quietly doesn't?",
    "hybrid": "What does a good hybrid week look like for each of you?",
    "sustainability": "Which sustainability questions do younger colleagues ask about us?",
    "genz": "What do colleagues starting their careers expect from a leader today?",
    "career": "What career decision shaped each of you, and what would you do differently?",
}


def first_agenda(shared_topics: Sequence[str]) -> list[str]:
    """Three to four agenda items for the first conversation."""
    agenda = [
        "Introductions: your roles, and what you each hope to get from the pairing (10 min).",
    ]
    topics = [t for t in shared_topics if t in _TOPIC_OPENERS][:2] or ["genz"]
    agenda += [f"{TOPICS[t]}: {_TOPIC_OPENERS[t]}" for t in topics]
    agenda.append("Agree how often you'll meet and pick your next date before you hang up.")
    return agenda


def shared_topics(mentor_topics: Sequence[str], mentee_topics: Sequence[str]) -> list[str]:
    wanted = set(mentee_topics)
    return [t for t in mentor_topics if t in wanted]
