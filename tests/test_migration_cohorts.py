"""Revision 0006 on a database built before cohorts: each workspace's one program becomes
"Cohort 1", with its dates, its decided checkpoints and every row it had."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from storage import program
from storage.db import make_engine
from storage.migrations import head_revision, migrate
from storage.models import (
    Cohort,
    CohortMember,
    OutcomeAnswer,
    Pair,
    PairCohort,
    Participant,
    saved_id,
)
from tests.kit.databases import database_url_fixture  # noqa: F401  (database_url)
from tests.kit.revisions import scripts_up_to

WHEN = "2026-03-02 09:00:00.000000"
LATER = datetime(2026, 4, 1, 9, tzinfo=UTC)

# As revision 0005 wrote them: T1 ran a program whose midpoint was asked, T2 never set
# dates, T3's program had ended.
BEFORE = (
    "INSERT INTO program_settings (team_id, cadence_days, prompt_lead_hours, stall_days, "
    "escalate_after_days, updated_at, program_start, program_end, pulse_cadence_days, "
    "pulse_close_days, summary_weekday, summary_hour, timezone, min_responses, working_days, "
    f"program_admins, send_guides) VALUES ('T1', 21, 24, 30, 7, '{WHEN}', '2026-01-05', "
    "'2026-07-05', 14, 7, 0, 9, 'Europe/Paris', 3, '0,1,2,3,4', '', TRUE)",
    "INSERT INTO program_settings (team_id, cadence_days, prompt_lead_hours, stall_days, "
    "escalate_after_days, updated_at, program_start, program_end, pulse_cadence_days, "
    "pulse_close_days, summary_weekday, summary_hour, timezone, min_responses, working_days, "
    f"program_admins, send_guides) VALUES ('T3', 14, 24, 21, 7, '{WHEN}', '2025-06-02', "
    "NULL, 14, 7, 0, 9, 'UTC', 3, '0,1,2,3,4', '', TRUE)",
    f"INSERT INTO workspace_schedule (team_id, midpoint_decided_at) VALUES ('T1', '{WHEN}')",
    "INSERT INTO workspace_schedule (team_id, midpoint_decided_at, end_decided_at) "
    f"VALUES ('T3', '{WHEN}', '{WHEN}')",
    *(
        "INSERT INTO participant (team_id, user_id, role, topics, capacity, status, "
        f"created_at, updated_at) VALUES ('{team}', '{user}', '{role}', '[]', 1, 'active', "
        f"'{WHEN}', '{WHEN}')"
        for team, user, role in (
            ("T1", "UJ1", "junior"),
            ("T1", "UL1", "leader"),
            ("T2", "UJ2", "junior"),
            ("T3", "UJ3", "junior"),
        )
    ),
    "INSERT INTO pair (team_id, mentor_id, mentee_id, status, score, explanation, created_at, "
    f"updated_at) VALUES ('T1', 'UJ1', 'UL1', 'active', 1.0, '', '{WHEN}', '{WHEN}')",
    "INSERT INTO outcome_answer (id, team_id, user_id, checkpoint, progress, answered_at) "
    f"VALUES (7, 'T1', 'UJ1', 'midpoint', 'some', '{WHEN}')",
)


def test_a_single_program_database_becomes_cohort_1_with_everything_it_had(database_url, tmp_path):
    engine = make_engine(database_url)
    try:
        migrate(engine, scripts=scripts_up_to(tmp_path, "0005"))
        with engine.begin() as conn:
            for statement in BEFORE:
                conn.exec_driver_sql(statement)
        assert migrate(engine).after == head_revision()

        with Session(engine) as session:
            cohorts = {c.team_id: c for c in session.exec(select(Cohort))}
            assert sorted(cohorts) == ["T1", "T2", "T3"]
            assert {c.name for c in cohorts.values()} == {"Cohort 1"}
            one, two, three = cohorts["T1"], cohorts["T2"], cohorts["T3"]
            assert (one.starts_on, one.ends_on) == (date(2026, 1, 5), date(2026, 7, 5))
            assert one.midpoint_decided_at == datetime(2026, 3, 2, 9, tzinfo=UTC)
            assert one.end_decided_at is None
            assert (one.status, one.signups_open) == ("running", True)
            assert (two.starts_on, two.status, two.signups_open) == (None, "running", True)
            # An ended program takes no more signups, and its end is not decided again.
            assert (three.status, three.signups_open) == ("ended", False)
            assert three.end_decided_at is not None

            people = {p.user_id: p.cohort_id for p in session.exec(select(Participant))}
            assert people == {"UJ1": one.id, "UL1": one.id, "UJ2": two.id, "UJ3": three.id}
            [pair] = session.exec(select(Pair)).all()
            assert (pair.mentor_id, pair.cohort_id) == ("UJ1", one.id)
            # Each cohort remembers who and which pairs were ever in it.
            members = {(m.cohort_id, m.user_id) for m in session.exec(select(CohortMember))}
            assert members == {(cohort_id, user) for user, cohort_id in people.items()}
            assert [(p.pair_id, p.cohort_id) for p in session.exec(select(PairCohort))] == [
                (pair.id, one.id)
            ]
            [answer] = session.exec(select(OutcomeAnswer)).all()
            assert (answer.id, answer.user_id, answer.cohort_id, answer.progress) == (
                7,
                "UJ1",
                one.id,
                "some",
            )

            # The settings read the dates from the cohort now, the rest as they were.
            settings = program.get_program_settings(session=session, team_id="T1")
            assert (settings.program_start, settings.program_end) == (
                date(2026, 1, 5),
                date(2026, 7, 5),
            )
            assert (settings.cadence_days, settings.timezone) == (21, "Europe/Paris")

            # New answers are numbered after the copied ones.
            session.add(
                OutcomeAnswer(
                    team_id="T1",
                    cohort_id=saved_id(one),
                    user_id="UL1",
                    checkpoint="midpoint",
                    progress="achieved",
                    answered_at=LATER,
                )
            )
            session.commit()
            ids = sorted(saved_id(a) for a in session.exec(select(OutcomeAnswer)))
            assert ids[0] == 7 and ids[1] > 7
    finally:
        engine.dispose()
