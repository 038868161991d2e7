"""The entry point: console script, configuration and wiring; nothing else."""
