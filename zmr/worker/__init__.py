"""The worker: registers, asks for tasks, runs them in child processes, serves its map output."""
