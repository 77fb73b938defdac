"""How the run report reads to a person: its tables, SVG charts and HTML page (Prefect-free)."""
