"""A real SMTP server (aiosmtpd) that records every message it accepts: `python smtpsink.py PORT OUTFILE`.

Listens on 127.0.0.1:PORT of the namespace it runs in; appends one JSON object per message to OUTFILE:
{"at": epoch, "mail_from": ..., "rcpt_tos": [...], "data": "..."}. Runs until killed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller


class Recorder:
    """aiosmtpd handler: record the envelope and the message, accept it."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        record = {
            "at": time.time(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", errors="replace"),
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Recorder(path), hostname="127.0.0.1", port=port)
    controller.start()
    print("listening", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
