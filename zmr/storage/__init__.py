"""Bytes at rest: input splits, Arrow IPC intermediates, output formats and commit; no sockets."""
