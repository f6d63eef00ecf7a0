"""A faithful local stand-in for Slack, for tests, the demo and benchmarks.

* ``SlackSandbox`` serves Slack's Web API (and upload / response URLs) on 127.0.0.1, validates
  parameters and Block Kit like Slack, keeps an in-memory workspace and records every call.
* ``SlackDriver`` plays Slack towards the bot's HTTP endpoint: signed slash commands, button
  clicks, modal submissions and events.
* ``sandbox.faults`` (on a ``SlackSandbox``) injects rate limits, server errors, slowness and
  channel errors.
"""

from sandbox.driver import ModalAnswerError, SlackDriver, sign_request
from sandbox.faults import FaultInjector
from sandbox.state import ApiCall, Channel, File, Message, User, Workspace
from sandbox.webapi import SlackSandbox

__all__ = [
    "ApiCall",
    "Channel",
    "FaultInjector",
    "File",
    "Message",
    "ModalAnswerError",
    "SlackDriver",
    "SlackSandbox",
    "User",
    "Workspace",
    "sign_request",
]
