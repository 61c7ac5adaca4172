"""Allow ``python -m evaluation``."""

from evaluation.cli import main

if __name__ == "__main__":  # batch workers may import this module again (fork server, spawn)
    raise SystemExit(main())
