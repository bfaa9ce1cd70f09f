"""The domain: plain data in, decisions out. No Slack, no database; `now` is always passed in."""
