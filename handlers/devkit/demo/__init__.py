"""`reverse-mentor demo`: the real bot plays two cohorts against a fake Slack workspace: a
pilot of eight leaders and eight junior mentors, then an expansion (the pilot's pairs that
carry on, newcomers, and people from the pilot who take up the offer of its pool), until the
expansion's impact report, compared with the pilot, is posted.

Everything the bot does here is what it does in production: the same app object `app.build`
makes, the same handlers, storage, cohort, matching, cadence, pulse, summary and impact-report
code, reached through signed HTTP requests exactly as Slack sends them. Only Slack (the fake in
`fake_slack/`, on 127.0.0.1), the people (simulated, driven by a seeded `random.Random`) and the
clock (simulated: twelve weeks pass in seconds) are stand-ins. The transcript is read back from
the calls the bot made to the fake Slack and from what the simulated people did.

    run.py         run_demo: set up, play both cohorts hour by hour, report the summary and
                   the impact report, and save their charts and page
    cast.py        the admin and the people, the cohorts' dates, the rhythm the admin sets,
                   agreement items, working hours
    actions.py     what a person does (sign up, click, react, leave, agree), as signed
                   requests; what the admin does (create a cohort, save the settings)
    behaviour.py   Demo: how people answer the bot's messages, pair by pair (a cohort's end:
                   continue or close; the offer of the next cohort's pool)
    transcript.py  Transcript and blocks_to_text: what happened, as readable lines
"""

from handlers.devkit.demo.behaviour import Demo
from handlers.devkit.demo.run import play, report, run_demo
from handlers.devkit.demo.transcript import Transcript, blocks_to_text

__all__ = ["Demo", "Transcript", "blocks_to_text", "play", "report", "run_demo"]
