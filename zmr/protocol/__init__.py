"""The wire contract: message definitions and their frame encoding; no sockets, no state."""
