"""procedures rules (being written)."""
