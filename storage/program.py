"""Per-workspace program settings; a workspace that never changed them gets the defaults."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.cadence import ProgramSettings
from storage.models import ProgramSettingsRow


def get_program_settings(*, session: Session, team_id: str) -> ProgramSettings:
    row = session.get(ProgramSettingsRow, team_id)
    if row is None:
        return ProgramSettings()
    return ProgramSettings(
        cadence_days=row.cadence_days,
        prompt_lead_hours=row.prompt_lead_hours,
        stall_days=row.stall_days,
        escalate_after_days=row.escalate_after_days,
    )


def save_program_settings(
    *, session: Session, team_id: str, settings: ProgramSettings, now: datetime
) -> None:
    row = session.get(ProgramSettingsRow, team_id) or ProgramSettingsRow(
        team_id=team_id,
        cadence_days=settings.cadence_days,
        prompt_lead_hours=settings.prompt_lead_hours,
        stall_days=settings.stall_days,
        escalate_after_days=settings.escalate_after_days,
        updated_at=now,
    )
    row.cadence_days = settings.cadence_days
    row.prompt_lead_hours = settings.prompt_lead_hours
    row.stall_days = settings.stall_days
    row.escalate_after_days = settings.escalate_after_days
    row.updated_at = now
    session.add(row)
