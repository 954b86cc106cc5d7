"""Runs `proposals` with a pause inside its schema change, for the kill tests.

    python tests/schema_pause.py AT proposals-arguments...

AT is the number of the schema statement (CREATE, DROP, ALTER, or the write of alembic_version)
after which the process prints `paused after N: <statement>` on stderr and sleeps, so that a test
can kill it there; `commit` pauses just before the schema transaction commits; `list` pauses
nowhere and prints every schema statement as it runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

SCHEMA_WORDS = ("CREATE", "DROP", "ALTER")
AT = sys.argv.pop(1)
seen = 0


def _is_schema(statement: str) -> bool:
    words = statement.lstrip().upper()
    return words.startswith(SCHEMA_WORDS) or (words.startswith(("INSERT", "UPDATE")) and "ALEMBIC_VERSION" in words)


def _pause(what: str) -> None:
    sys.stderr.write(f"paused after {what}\n")
    sys.stderr.flush()
    time.sleep(600)


@event.listens_for(Engine, "after_cursor_execute")
def _after(connection, cursor, statement, parameters, context, executemany) -> None:
    global seen
    if not _is_schema(statement):
        return
    seen += 1
    first = " ".join(statement.split())[:80]
    if AT == "list":
        sys.stderr.write(f"schema statement {seen}: {first}\n")
    elif AT.isdigit() and seen == int(AT):
        _pause(f"{seen}: {first}")


@event.listens_for(Engine, "commit")
def _commit(connection) -> None:
    if AT == "commit" and seen:
        _pause("the last schema statement, before the commit")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import cli

    sys.argv[0] = "proposals"
    cli.main()
