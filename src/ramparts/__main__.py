"""`python -m ramparts`: the `ramparts` command."""

import sys

from ramparts.cli.main import main

sys.exit(main())
