"""What users write (job modules) and how their hooks are called; no sockets, no scheduling."""
