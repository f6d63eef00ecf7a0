"""The baseline server: a Bolt app whose listeners only ack, on the bot's own HTTP adapter
(`bot.server.create_web_app` under uvicorn, configured as `securebase run` configures it).

Run as `python -m bench.bare_app` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL,
DATABASE_URL (only /readyz touches it, and Slack's api.test), PORT and LISTENER_THREADS (the
bot's `bot.app.LISTENER_THREADS`, passed in so that this process need not import the bot's
handlers: its memory is the baseline for the bot's) in the environment.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import uvicorn
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.health import Readiness, SlackWebApi
from bot.render.checkin import CALLBACK_ID
from bot.server import create_web_app
from storage.db import Database


def bare_app(token: str, signing_secret: str, api_url: str, listener_threads: int) -> App:
    app = App(
        client=WebClient(token=token, base_url=api_url, timeout=10),
        signing_secret=signing_secret,
        logger=logging.getLogger("bench.bare"),
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(listener_threads),  # as many as the bot has
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/checkin")(only_ack)
    app.command("/teampulse")(only_ack)
    app.view(CALLBACK_ID)(only_ack)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    env = os.environ
    app = bare_app(
        env["SLACK_BOT_TOKEN"],
        env["SLACK_SIGNING_SECRET"],
        env["SLACK_API_URL"],
        int(env["LISTENER_THREADS"]),
    )
    readiness = Readiness(Database(env["DATABASE_URL"]))
    readiness.slack = SlackWebApi(env["SLACK_API_URL"])
    config = uvicorn.Config(
        create_web_app(readiness, env["SLACK_SIGNING_SECRET"], lambda: app),
        host="127.0.0.1",
        port=int(env["PORT"]),
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
