"""``python -m zmr`` is the ``zmr`` command."""

from zmr.cli.main import main

raise SystemExit(main())
