"""The coordinator: scheduling state (a pure state machine) and the I/O shell around it."""
