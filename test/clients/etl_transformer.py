# An ETL transformer in Python, as ML engineers write them, speaking what a tais (and AIStore) target
# speaks over ws://: GET /health, and a WebSocket at /ws where each object arrives as two binary
# messages, a control JSON {"path", "etl_args"} and the bytes, and is answered with one binary message.
# With an ETL of argument "fqn" the control JSON carries "fqn" (the object's file, URL-escaped) and no
# bytes follow: the transformer reads the file. This one upper-cases ASCII letters and puts etl_args in front. Needs python3-websockets (Debian).
#   PORT=8000 python3 etl_transformer.py     (a target sets PORT when it starts it)
import asyncio
import http
import json
import os
from urllib.parse import unquote

import websockets


def transform(data: bytes, args: str) -> bytes:
    out = data.upper()
    return (args.encode() + b":" + out) if args else out


async def health(path, headers):
    if path == "/health":
        return http.HTTPStatus.OK, [], b"Running"
    if path != "/ws":
        return http.HTTPStatus.NOT_FOUND, [], b"not found"
    return None  # go on with the WebSocket handshake


async def handler(ws, path):
    ctrl = None
    async for msg in ws:
        if ctrl is None:
            ctrl = json.loads(msg)
            if "fqn" not in ctrl:
                continue  # the bytes come next
            with open(unquote(ctrl["fqn"]), "rb") as f:
                msg = f.read()
        await ws.send(transform(msg, ctrl.get("etl_args", "")))
        ctrl = None


async def main():
    port = int(os.environ.get("PORT", "8000"))
    async with websockets.serve(handler, "127.0.0.1", port, process_request=health, max_size=None, compression=None):
        print(f"python transformer on 127.0.0.1:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
