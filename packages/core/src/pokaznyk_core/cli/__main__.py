"""`python -m pokaznyk_core.cli` runs the `pokaznyk` command."""

from pokaznyk_core.cli import main

main()
