"""Program settings: the workspace's rhythm, dates, working week and admin channel."""
