"""Allow ``python -m dss``."""

from dss.cli import main

main()
