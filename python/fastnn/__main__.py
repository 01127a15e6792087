"""``python -m fastnn``: the same command line as ``fastnn``."""

from .cli import main

raise SystemExit(main())
