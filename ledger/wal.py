"""Words for a SQLite write-ahead log another process kept from being emptied: one phrase for
every erasure that leaves old bytes there (a case key destroyed, views rebuilt)."""


def wal_kept(what: str, command: str = "erase") -> str:
    """Why `what` (old bytes) is still in the -wal file, and what finishes the job."""
    return (f"another process is reading the store, so its write-ahead log (the -wal file) "
            f"could not be emptied and still holds {what} until the next complete checkpoint; "
            f"run {command} again when the bot and worker are idle")
