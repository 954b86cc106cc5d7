"""A stand-in for a DOC/WPS converter (PROPOSALS_DOC_CONVERTER="python tests/stub_converter.py"):
reads the fake DOC files tests/replica_files.py writes (an OLE header, then UTF-8 text) and
prints their text, as `antiword` prints a real one's. Anything else it refuses, exit 1."""

import sys
from pathlib import Path

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

body = Path(sys.argv[-1]).read_bytes()
if not body.startswith(OLE):
    sys.stderr.write("not a Word document\n")
    sys.exit(1)
sys.stdout.write(body[len(OLE) + 8:].decode("utf-8"))
