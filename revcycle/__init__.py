"""revcycle: an open-source revenue-cycle pipeline for medical billing."""
__version__ = "0.1.0"
