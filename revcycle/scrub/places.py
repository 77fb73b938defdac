"""places rules (being written)."""
