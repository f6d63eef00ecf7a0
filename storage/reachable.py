"""`python -m storage.reachable URL`: exit 0 when the database answers, 1 otherwise (for make)."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m storage.reachable DATABASE_URL", file=sys.stderr)
        return 2
    engine = create_engine(argv[0], connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
