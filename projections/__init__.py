"""The read side: views folded from the event log, the overview report, history and replay."""
