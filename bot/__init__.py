"""The Slack front door: the Bolt app, its messages and forms, the alert worker, `bot try`."""
