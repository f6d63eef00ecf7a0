"""Block Kit for every surface, built with slack_sdk's models (validated as they are built)."""
