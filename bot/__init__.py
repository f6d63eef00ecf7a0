"""Slack adapter for Secure Base: the Bolt app, settings, rendering and the CLI."""
