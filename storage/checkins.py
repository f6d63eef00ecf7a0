"""An open week's sealed check-ins: rows only (the sealing is `practice.sealing`'s).

Who answered is never stored. A row is found again only by `respondent_key`, an HMAC of the
member under the week's secret, which the database holds only wrapped under the operator's key.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from storage.models import SealedAnswer, TeamWeek


def has_sealed(session: Session, period_id: int, respondent_key: str) -> bool:
    found = session.scalar(
        select(SealedAnswer.id).where(
            SealedAnswer.period_id == period_id, SealedAnswer.respondent_key == respondent_key
        )
    )
    return found is not None


def lock_open(session: Session, period_id: int) -> bool:
    """Hold the week open while a check-in is written (FOR SHARE: check-ins go side by side;
    the close waits for them). False when it has closed meanwhile."""
    still_open = session.scalar(
        select(TeamWeek.id)
        .where(TeamWeek.id == period_id, TeamWeek.closed.is_(False))
        .with_for_update(read=True)
    )
    return still_open is not None


def replace_sealed(session: Session, period_id: int, respondent_key: str, sealed: bytes) -> bool:
    """Store one member's sealed check-in, replacing an earlier one; True if it replaced."""
    mine = (SealedAnswer.period_id == period_id) & (SealedAnswer.respondent_key == respondent_key)
    removed = session.execute(delete(SealedAnswer).where(mine))
    session.execute(
        insert(SealedAnswer).values(
            period_id=period_id, respondent_key=respondent_key, sealed=sealed
        )
    )
    return bool(getattr(removed, "rowcount", 0))
