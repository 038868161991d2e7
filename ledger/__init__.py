"""The write side: events, aggregates, commands and the ledger application."""
