"""The ledger's command handlers, one module per part of the audit cycle (see ledger.application)."""
