"""python -m services.cli: the `retail` command line."""

from services.cli.main import app

app()
