"""The ``zmr`` command line (entry point :func:`zmr.cli.main.main`)."""
