"""The planner command from the repository root: ``python cli.py --help`` (the same app as ``planner``)."""

from planner.cli import app

if __name__ == "__main__":
    app()
