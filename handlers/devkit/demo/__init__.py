"""`reverse-mentor demo`: the real bot plays a whole program against a fake Slack workspace.

Everything the bot does here is what it does in production: the same app object `app.build`
makes, the same handlers, storage, matching, cadence, pulse and summary code, reached through
signed HTTP requests exactly as Slack sends them. Only Slack (the fake in `fake_slack/`, on
127.0.0.1), the people (simulated, driven by a seeded `random.Random`) and the clock (simulated:
twelve weeks pass in seconds) are stand-ins. The transcript is read back from the calls the bot
made to the fake Slack and from what the simulated people did.

    run.py         run_demo: set up, play the program hour by hour, report the summary
    cast.py        the admin and the people, the rhythm the admin sets, working hours
    actions.py     what a person does (sign up, click, react, leave), as signed requests
    behaviour.py   Demo: how people answer the bot's messages, pair by pair
    transcript.py  Transcript and blocks_to_text: what happened, as readable lines
"""

from handlers.devkit.demo.behaviour import Demo
from handlers.devkit.demo.run import play, report, run_demo
from handlers.devkit.demo.transcript import Transcript, blocks_to_text

__all__ = ["Demo", "Transcript", "blocks_to_text", "play", "report", "run_demo"]
