"""Anonymised check-in writes.

Who answered is never stored. While the week is open, `respondent_key` = HMAC(week secret,
member) lets a second check-in replace the first; closing the week destroys the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Answer, Comment, Period, Team
from storage.periods import current_week, ensure_period
from storage.redact import redact
from storage.rotation import Rotation

SCALE = range(1, 6)


class CheckinError(ValueError):
    """An answer outside the scales, with a message fit for the person who sent it."""


@dataclass(frozen=True)
class CheckinAnswers:
    availability: int
    stress: int
    domain_item: int | None = None
    comment: str | None = None

    def validate(self) -> None:
        if self.availability not in SCALE:
            raise CheckinError("Please choose how available support has been (1 to 5).")
        if self.stress not in SCALE:
            raise CheckinError("Please choose how stressed you have felt (1 to 5).")
        if self.domain_item is not None and self.domain_item not in SCALE:
            raise CheckinError("The last question takes an answer from 1 to 5, or none.")


@dataclass(frozen=True)
class CheckinResult:
    replaced: bool
    week_index: int
    domain: str


def respondent_key(secret: bytes, workspace_id: str, user_id: str) -> str:
    return hmac.new(secret, f"{workspace_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def has_checked_in(session: Session, period: Period, workspace_id: str, user_id: str) -> bool:
    """For the member themself only (e.g. their own App Home); never shown to anyone else."""
    if period.secret is None:
        return False
    key = respondent_key(period.secret, workspace_id, user_id)
    return (
        session.scalar(
            select(Answer.id).where(Answer.period_id == period.id, Answer.respondent_key == key)
        )
        is not None
    )


def record_checkin(
    session: Session,
    team: Team,
    user_id: str,
    answers: CheckinAnswers,
    now: datetime,
    rotation: Rotation,
) -> CheckinResult:
    answers.validate()
    period = ensure_period(session, team, current_week(team, now), rotation)
    assert period.secret is not None, "the current week is open"
    key = respondent_key(period.secret, team.workspace_id, user_id)
    comment = redact(answers.comment) if answers.comment else ""
    for attempt in range(3):
        try:
            with session.begin_nested():
                replaced = _replace(session, period.id, key, answers, comment)
            return CheckinResult(replaced, period.week_index, period.domain)
        except IntegrityError:
            # A double-clicked submit racing us: try again, replacing whatever won.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _replace(
    session: Session, period_id: int, key: str, answers: CheckinAnswers, comment: str
) -> bool:
    # The week may have closed since the period was read: never write a keyed row into a
    # closed week. (FOR SHARE: check-ins go side by side; closing waits for them.)
    still_open = session.scalar(
        select(Period.id)
        .where(Period.id == period_id, Period.closed.is_(False))
        .with_for_update(read=True)
    )
    if still_open is None:
        raise CheckinError("This week's check-in has just closed. Please send yours again.")
    mine = (Answer.period_id == period_id) & (Answer.respondent_key == key)
    removed = session.scalar(select(Answer.id).where(mine)) is not None
    session.execute(delete(Answer).where(mine))
    session.execute(
        delete(Comment).where(Comment.period_id == period_id, Comment.respondent_key == key)
    )
    session.add(
        Answer(
            period_id=period_id,
            respondent_key=key,
            availability=answers.availability,
            stress=answers.stress,
            domain_item=answers.domain_item,
        )
    )
    if comment:
        session.add(Comment(period_id=period_id, respondent_key=key, body=comment))
    session.flush()
    return removed
