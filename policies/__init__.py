"""The partnership's rules: pure functions and value objects, no I/O, no imports of ours."""
