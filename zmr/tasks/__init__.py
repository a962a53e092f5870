"""One task attempt from start to finish, independent of how it was dispatched."""
