"""The App Home tab: everyone's own part, and the program at a glance for admins."""
