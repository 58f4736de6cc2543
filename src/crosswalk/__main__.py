"""``python -m crosswalk`` runs ``cw``."""

import sys

from crosswalk.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
