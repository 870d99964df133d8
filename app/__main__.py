"""``python -m app``: the command-line tool."""

from app.cli import main

main()
