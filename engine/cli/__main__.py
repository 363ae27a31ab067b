"""`python -m engine.cli`: the `takedown` command, where it is not installed as one."""

import sys

from engine.cli import main

sys.exit(main())
