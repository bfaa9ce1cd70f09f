"""The offline dev kit: a fake Slack workspace, request signing, a controllable clock and a
signed-request driver for the app `app.build` makes, and the demo built on them.

Product code, not test code, so an installed `reverse-mentor demo` works without a checkout;
the tests and benchmarks import it from here too.
"""
