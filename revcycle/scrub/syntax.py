"""syntax rules (being written)."""
