"""``python -m zmr`` is the ``zmr`` command."""

from zmr.cli import main

raise SystemExit(main())
