"""Only the database: SQLAlchemy models, Alembic migrations, the queries and the aggregate reads.

The rules that are not persistence (weeks, rotation, profile, redaction, the clock, figures)
are in `practice/`. Nothing in this package knows about Slack.
"""
