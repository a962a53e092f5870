"""A sibling package of crash_app.py."""
