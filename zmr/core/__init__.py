"""The shared core at the bottom of zmr: errors, ids, specs, plans and format names.

Everything else may import it; it imports nothing of zmr but itself."""
