"""demographics rules (being written)."""
