"""``python -m neuncut ARGS``: the CLI, as the installed ``neuncut`` command runs it."""
import sys

from ._cli import main

sys.exit(main())
