"""Use cases and the rules that keep Secure Base's promises, between Slack (`bot/`) and the
database (`storage/`). Nothing here imports Slack."""
