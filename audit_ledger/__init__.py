"""The entry package: the `audit-ledger` console script and the composition root, above the four rooms."""
