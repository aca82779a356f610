"""``python -m pastefile.cli``: the same command as the ``pastefile`` script."""

import os

from pastefile.cli.main import main

os.environ.setdefault("APP_ENV", "development")
main()
