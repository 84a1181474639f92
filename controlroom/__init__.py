"""controlroom: a real-time control room for live-commerce shows."""

__version__ = "0.1.0"
