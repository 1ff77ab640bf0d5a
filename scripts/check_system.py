"""Check the system libraries Academy needs before installing, and say plainly what is missing."""

import ctypes.util
import sys

NEEDED = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    # Certificates load their fonts through it (static/fonts/fonts.conf), never the system's.
    "fontconfig": "libfontconfig1",
    "harfbuzz": "libharfbuzz0b",
    # WeasyPrint subsets fonts with it; without it, with fontTools, several times slower.
    "harfbuzz-subset": "libharfbuzz-subset0",
}

missing = [pkg for lib, pkg in NEEDED.items() if ctypes.util.find_library(lib) is None]
if missing:
    print(
        "WeasyPrint (which draws the certificates) needs system libraries that are missing.\n"
        f"Install them with:  sudo apt-get install {' '.join(missing)}",
        file=sys.stderr,
    )
    sys.exit(1)
