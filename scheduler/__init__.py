"""Weekly timing: APScheduler cron jobs per team, made exactly-once by the delivery ledger."""
