"""A real SMTP server process for tests: accepts every message and writes it to a folder.

Run: python -m tests.support.smtp_sink PORT FOLDER

Each message becomes FOLDER/000001.eml, 000002.eml, ... (names sort in arrival order), with
X-MailFrom / X-RcptTo headers prepended so tests can see envelope recipients such as Bcc.
Prints "ready" once listening; exits cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class FolderHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.counter += 1
        name = f"{self.counter:06d}.eml"
        envelope_headers = (
            f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        # original_content is the raw bytes as received (content may be decoded for SMTPUTF8).
        body: bytes = envelope.original_content or envelope.content
        # Write then rename so a reader never sees half a message.
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(envelope_headers + body)
        tmp.rename(self.folder / name)
        return "250 Message accepted"


async def serve(port: int, folder: Path) -> None:
    loop = asyncio.get_running_loop()
    handler = FolderHandler(folder)
    server = await loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True), host="127.0.0.1", port=port
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(port, folder))


if __name__ == "__main__":
    main()
