"""Persistence for Secure Base: models, migrations, anonymised writes and aggregate reads.

Nothing in this package knows about Slack.
"""
