"""Score a gold file: `python eval/run.py --gold eval/gold.jsonl --index index --out eval/report`.

Exactly `qa eval` (same flags, output and exit codes): the `qa` command parses the flags, turns on
offline mode and turns DocQAError into `error: …` and exit code 1; it then runs `qa.cli.cmd_eval`,
which composes qa.evaluate's pure functions. Kept as a script for people who run evaluations from eval/.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run `qa eval` with `argv` (default: this script's command-line arguments)."""
    from qa.cli import main as qa_main

    return qa_main(["eval", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
