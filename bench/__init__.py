"""The bench: the load harness and its synthetic cases. Never part of the app."""
