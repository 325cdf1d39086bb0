"""A real SMTP server for the end-to-end tests, on loopback, that keeps what it receives.

Why it exists: the service sends e-mail over SMTP, and the tests check that path for real
(a TCP conversation with an SMTP server, as in production) rather than through a fake
transport inside the process. tests/src/smtp.rs starts one per test, in a virtual
environment of the pinned requirements.txt next to this file.

Usage: python server.py --port PORT --dir DIR [--fail-first N] [--hold-first-reply SECONDS]

Listens on 127.0.0.1:PORT (plain SMTP: no TLS, no AUTH) and prints `READY PORT` once it
listens. Each message becomes DIR/NNNNNN-PID.eml (the raw bytes received) and
DIR/NNNNNN-PID.rcpt (the envelope recipients, one a line), NNNNNN counting on from the files
already in DIR so that names sort in arrival order across restarts. The .rcpt file is
written first and each file appears whole (renamed from a temporary name): whoever sees the
.eml sees both complete. --fail-first N answers the first N messages `451 4.3.0 try again
later` without keeping them, to test retries. --hold-first-reply SECONDS keeps the first
message, then waits that long before answering `250 OK`: a sender killed meanwhile never hears
that the message arrived (a crash between delivery and its record). Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import itertools
import os
import signal
from pathlib import Path

from aiosmtpd.smtp import SMTP


class Keeper:
    """The aiosmtpd handler: writes each message into the directory."""

    def __init__(self, directory: Path, fail_first: int, hold_first_reply: float):
        self.directory = directory
        self.failures_left = fail_first
        self.hold = hold_first_reply
        numbers = [int(p.name[:6]) for p in directory.glob("*.eml") if p.name[:6].isdigit()]
        self.counter = itertools.count(max(numbers, default=0) + 1)

    def write(self, name: str, data: bytes) -> None:
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.directory / name)

    async def handle_DATA(self, server, session, envelope):
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 try again later"
        stem = f"{next(self.counter):06d}-{os.getpid()}"
        self.write(f"{stem}.rcpt", "".join(f"{r}\n" for r in envelope.rcpt_tos).encode())
        self.write(f"{stem}.eml", envelope.original_content or envelope.content)
        if self.hold > 0:
            hold, self.hold = self.hold, 0
            await asyncio.sleep(hold)
        return "250 OK"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--hold-first-reply", type=float, default=0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)

    keeper = Keeper(args.dir, args.fail_first, args.hold_first_reply)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(keeper, enable_SMTPUTF8=True), host="127.0.0.1", port=args.port
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"READY {args.port}", flush=True)
    await stop.wait()
    server.close()  # not wait_closed(): from Python 3.12 it waits for open connections


if __name__ == "__main__":
    asyncio.run(main())
