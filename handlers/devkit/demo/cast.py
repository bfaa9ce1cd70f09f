"""The demo's cast and calendar: the admin, the twenty-four people who sign up (names, time
zones, roles, topics, goals), the two cohorts' dates (a pilot, then an expansion), the rhythm
the admin sets, what pairs write in their learning agreements, and when people are at work."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import pulse
from bot.cohort import OWN_SETTINGS

ADMIN = "UADMIN"
ADMIN_CHANNEL = "CADMIN"
SIGNUP_DAY = datetime(2026, 2, 27, 9, 0, tzinfo=UTC)  # a Friday: people sign up
PROGRAM_START = date(2026, 3, 2)  # the Monday after: the admin matches everyone
PILOT = "Pilot"
EXPANSION = "Expansion"
PILOT_SIZE = 8  # leaders, and as many junior mentors; the rest of the cast joins the expansion
CARRY_OVER_YES = 0.6  # the chance that someone offered the expansion's pool accepts

ZONES = {
    "Asia/Tokyo": "Tokyo",
    "Asia/Kolkata": "Bengaluru",
    "Europe/London": "London",
    "Europe/Berlin": "Berlin",
    "America/New_York": "New York",
}
# Two juniors and two or three leaders per zone, so everyone can find a partner at work.
JUNIORS = [
    ("Aiko Tanaka", "Asia/Tokyo"),
    ("Ren Sato", "Asia/Tokyo"),
    ("Priya Nair", "Asia/Kolkata"),
    ("Arjun Mehta", "Asia/Kolkata"),
    ("Sam Okafor", "Europe/London"),
    ("Maya Collins", "Europe/London"),
    ("Lena Vogel", "Europe/Berlin"),
    ("Jonas Weber", "Europe/Berlin"),
    ("Zoe Martinez", "America/New_York"),
    ("Tyler Brooks", "America/New_York"),
    ("Nia Johnson", "America/New_York"),
    ("Ola Bakare", "Europe/London"),
]
LEADERS = [
    ("Hiroshi Mori", "Asia/Tokyo"),
    ("Keiko Ito", "Asia/Tokyo"),
    ("Vikram Rao", "Asia/Kolkata"),
    ("Anjali Iyer", "Asia/Kolkata"),
    ("Margaret Hale", "Europe/London"),
    ("David Clarke", "Europe/London"),
    ("Ursula Brandt", "Europe/Berlin"),
    ("Klaus Richter", "Europe/Berlin"),
    ("Robert Chen", "America/New_York"),
    ("Linda Park", "America/New_York"),
    ("Frank Russo", "America/New_York"),
    ("Helen Ward", "Europe/London"),
]
LATE_JOINER = "Grace Mensah"  # signs up after someone leaves, and is matched to their partner
JUNIOR_TITLES = ["Data analyst", "Graduate engineer", "Marketing associate", "UX designer"]
LEADER_TITLES = ["VP Operations", "Chief Financial Officer", "Head of Sales", "General Counsel"]
DEPARTMENTS = ["Finance", "Operations", "Sales", "Legal", "Engineering", "Marketing", "People"]
TOPICS = ["ai", "social", "inclusion", "hybrid", "sustainability", "genz", "career"]
JUNIOR_GOALS = [
    "Help a leader get hands-on with AI tools.",
    "Show how my generation uses social media at work.",
    "Learn how decisions get made at the top.",
]
LEADER_GOALS = [
    "Understand how younger colleagues want to work.",
    "Use AI tools in my own week, not just talk about them.",
    "Make our hybrid policy work for early-career people.",
]
LEADER_CHANGES = [
    "I draft my board notes with an AI assistant, then edit.",
    "I moved my team's status meeting to an async thread.",
    "I ask the newest person in the room to speak first.",
    "I post on our internal social channel every week.",
    "I stopped scheduling meetings on Friday afternoons.",
    "I record a short video instead of a long all-hands email.",
    "I invite a graduate to every strategy review.",
    "I check our job ads for jargon before they go out.",
    "I keep one day a week free of meetings for my team.",
    "I ask for feedback in a quick poll, not at the end of a call.",
    "I try each new tool myself before I approve it.",
    "I explain the why behind a decision, not only the what.",
]
# What pairs write in their learning agreements: the leader's side, then the junior mentor's.
LEADER_WANTS = [
    "How my team really uses AI tools day to day",
    "What makes a hybrid week work for early-career people",
    "How younger colleagues read our internal messages",
    "Which social platforms matter for our brand, and why",
    "How to run a meeting that people under 30 find worth it",
]
JUNIOR_WANTS = [
    "How strategy decisions get made at the top",
    "How to present an idea to senior people",
    "What a leader looks for in a promotion case",
    "How budgets are set across departments",
    "How to build a network outside my team",
]
SCALE = [point.emoji for point in pulse.SCALE]  # "one" ... "five"


@dataclass
class Person:
    user_id: str
    name: str
    tz: str
    role: str
    answers: dict

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class Calendar:
    """The two cohorts of a `weeks`-long demo: the pilot takes the first half (rounded down,
    at least a week), the expansion the rest; each ends on a Friday, and the expansion starts
    the Monday after the pilot ends."""

    weeks: int
    pilot_weeks: int
    pilot_start: date
    pilot_end: date
    expansion_weeks: int
    expansion_start: date
    expansion_end: date

    @classmethod
    def of(cls, weeks: int, start: date = PROGRAM_START) -> Calendar:
        pilot_weeks = max(1, weeks // 2)
        pilot_end = start + timedelta(days=7 * pilot_weeks - 3)
        expansion_start = pilot_end + timedelta(days=3)
        expansion_weeks = weeks - pilot_weeks
        expansion_end = expansion_start + timedelta(days=7 * expansion_weeks - 3)
        return cls(
            weeks, pilot_weeks, start, pilot_end, expansion_weeks, expansion_start, expansion_end
        )


def rhythm_for(weeks: int) -> dict[str, str]:
    """The settings the admin saves for a cohort `weeks` long: the defaults for a long one; a
    tighter rhythm for a short one, so that prompts, pulses, nudges and escalations all
    happen within it."""
    if weeks >= 8:
        return dict(cadence_days="14", stall_days="21", escalate_after_days="7")
    if weeks <= 2:
        return dict(
            cadence_days="7",
            stall_days="8",
            escalate_after_days="2",
            pulse_cadence_days="7",
            pulse_close_days="4",
        )
    return dict(
        cadence_days="7",
        stall_days="10",
        escalate_after_days="4",
        pulse_cadence_days="7",
        pulse_close_days="5",
    )


_DEFAULT_RHYTHM = dict(
    cadence_days="14", stall_days="21", escalate_after_days="7", pulse_cadence_days="14"
)


def own_rhythm(pilot_weeks: int, expansion_weeks: int) -> list[str]:
    """The expansion's own rhythm (`cadence=7` …) where its length calls for another than the
    pilot's, which the workspace's settings hold."""
    pilot = dict(_DEFAULT_RHYTHM, **rhythm_for(pilot_weeks))
    expansion = dict(_DEFAULT_RHYTHM, **rhythm_for(expansion_weeks))
    return [
        f"{key}={expansion[field]}"
        for key, field in OWN_SETTINGS.items()
        if expansion[field] != pilot[field]
    ]


def make_people(rng: random.Random) -> list[Person]:
    people = []
    for index, (name, tz) in enumerate(JUNIORS):
        topics = tuple(sorted(rng.sample(TOPICS, rng.randint(2, 3))))
        answers = dict(
            role="junior",
            level=str(rng.choice([1, 1, 2])),
            department=DEPARTMENTS[index % len(DEPARTMENTS)],
            topics=topics,
            goals=rng.choice(JUNIOR_GOALS),
            capacity="1",
        )
        people.append(Person(f"UJ{index + 1:02d}", name, tz, "junior", answers))
    for index, (name, tz) in enumerate(LEADERS):
        topics = tuple(sorted(rng.sample(TOPICS, rng.randint(2, 4))))
        answers = dict(
            role="leader",
            level=str(rng.choice([5, 6])),
            department=DEPARTMENTS[(index + 3) % len(DEPARTMENTS)],
            topics=topics,
            goals=rng.choice(LEADER_GOALS),
            capacity="1",
        )
        people.append(Person(f"UL{index + 1:02d}", name, tz, "leader", answers))
    return people


def rng_title(rng: random.Random, role: str) -> str:
    return rng.choice(JUNIOR_TITLES if role == "junior" else LEADER_TITLES)


def at_work(after: datetime, tz: str, rng: random.Random, *, max_delay_hours: int = 20):
    """A moment, some minutes to hours after `after`, inside the person's working day."""
    zone = ZoneInfo(tz)
    moment = (after + timedelta(minutes=rng.randint(15, max_delay_hours * 60))).astimezone(zone)
    for _ in range(10):
        if moment.weekday() < 5 and time(9) <= moment.time() < time(17, 30):
            break
        day = moment.date() + timedelta(days=1 if moment.time() >= time(9) else 0)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start = datetime.combine(day, time(9), tzinfo=zone)
        moment = start + timedelta(minutes=rng.randint(0, 150))
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def weekday_after(day: date, days: int) -> date:
    day += timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
