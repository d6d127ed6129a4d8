"""A local webhook receiver for the delivery tests: a threaded HTTP server on a free port that
verifies each request's signature with the `standardwebhooks` library (as a receiver would), keeps
what it got, and answers an error to the requests a test wants refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    msg_id: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    secret: str
    got: list[Received] = field(default_factory=list)
    refused: int = 0
    bad_signatures: int = 0
    cut_short: int = 0  # requests whose body ended early: their sender was killed while sending
    # Decides each request's status from its body (default: 204, accepted).
    answer: Callable[[dict[str, Any]], int] = lambda _: 204
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    delay_seconds: float = 0.0  # how long each request takes: a slow receiver
    in_flight: dict[str, int] = field(default_factory=dict)  # requests being served, by event id
    overlapping: int = 0  # requests that came while another for the same event was being served
    most_at_once: int = 0  # the most requests served at one time, for any events

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request (kill -9): nothing was sent
                    with receiver.lock:
                        receiver.cut_short += 1
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(raw, headers)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.loads(raw)
                msg_id = headers["webhook-id"]
                with receiver.lock:
                    receiver.overlapping += bool(receiver.in_flight.get(msg_id))
                    receiver.in_flight[msg_id] = receiver.in_flight.get(msg_id, 0) + 1
                    at_once = sum(receiver.in_flight.values())
                    receiver.most_at_once = max(receiver.most_at_once, at_once)
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                status = receiver.answer(body)
                with receiver.lock:
                    receiver.in_flight[msg_id] -= 1
                with receiver.lock:
                    if 200 <= status < 300:
                        receiver.got.append(Received(headers["webhook-id"], body, headers))
                    else:
                        receiver.refused += 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def ids(self) -> list[str]:
        with self.lock:
            return [r.msg_id for r in self.got]
