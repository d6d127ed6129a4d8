"""A lean webhook receiver for the outbox benchmark, in its own process: an asyncio HTTP server that
answers 204 at once and notes when each webhook-id arrived (wall clock); on SIGTERM it writes
`id<TAB>unix seconds` lines to the file named by its second argument."""

from __future__ import annotations

import asyncio
import signal
import sys
import time


async def main(port: int, out: str) -> None:
    got: list[tuple[str, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, msg_id = 0, ""
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value.strip())
                    elif name.lower() == b"webhook-id":
                        msg_id = value.strip().decode()
                await reader.readexactly(length)
                got.append((msg_id, time.time()))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()
    _write(out, got)


def _write(out: str, got: list[tuple[str, float]]) -> None:
    with open(out, "w") as f:
        f.writelines(f"{msg_id}\t{at}\n" for msg_id, at in got)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
