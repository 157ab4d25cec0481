"""`make bench`: every benchmark, printing its figures (never part of the test run)."""

from __future__ import annotations

import sys

from bench import scoring_pass


def main() -> int:
    return scoring_pass.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
