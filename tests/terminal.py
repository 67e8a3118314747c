"""Running `python -m cnncalc` on a pseudo-terminal, for the tests of widths and colour (POSIX only)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def on_terminal(arguments: list[str], columns: int, **env: str) -> tuple[int, str]:
    """The exit code and standard output of `python -m cnncalc ARGUMENTS` on a terminal `columns` wide, with no
    COLUMNS, NO_COLOR or FORCE_COLOR but those in `env`."""
    import fcntl
    import pty
    import struct
    import termios

    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", *arguments],
        stdout=secondary,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**environment, **env},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    code = process.wait(timeout=120)
    os.close(main)
    return code, b"".join(chunks).decode().replace("\r\n", "\n")
