"""Benchmarks of the ledger against the raw eventsourcing library: `python -m bench`."""
