"""Reporting blocks and how long they are kept.

A team reports in fixed, non-overlapping blocks of `pool_weeks` weeks (block n is weeks
n*pool .. n*pool + pool - 1). A block is the unit of everything that leaves the database: it is
shown whole or not at all, and it is kept or erased whole. If retention erased single weeks, a
block already shown could come back with a week fewer, and the difference between the two
pictures would be the answers of that one week (perhaps one person's). So a block goes as soon
as its *first* week is past the retention limit, all of it at once, and a reader never shows a
block that is past the limit (one a purge has not reached yet, or one an older version of the
purge left with weeks missing).
"""

from __future__ import annotations


def first_kept_week(this_week: int, pool_weeks: int, retention_weeks: int) -> int:
    """The first week of the oldest block still kept in `this_week`: every block starting
    earlier is past retention (its first week is more than `retention_weeks` ago)."""
    limit = this_week - retention_weeks
    return -(-limit // pool_weeks) * pool_weeks  # the first block start at or after `limit`
