"""The only package that imports zmq: sockets, endpoints, polling and heartbeats."""
