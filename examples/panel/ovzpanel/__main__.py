"""ovz-panel: a web control panel for the VEs of one state root, on localhost.

    ovz-panel [--root DIR] [--listen ADDR] [--port N] [--password-file FILE]

At its first start it makes the password file (default: panel.passwd in the state root,
mode 0600) and prints the password once. It serves on 127.0.0.1:8022 by default; --port 0
takes a free port. Once it listens it prints "ovz-panel: http://ADDR:PORT/" on stdout.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys

from aiohttp import web

import ovz

from . import auth
from .app import make_app


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ovz-panel", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="state root (default: $OVZ_ROOT, else /var/lib/ovz)")
    parser.add_argument("--listen", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8022, help="port (default 8022; 0: any)")
    parser.add_argument("--password-file", help="default: panel.passwd in the state root")
    parser.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="ovz-panel: %(message)s")

    root = ovz.resolve_state_root(args.root)
    os.makedirs(root, exist_ok=True)
    password_file = args.password_file or os.path.join(root, "panel.passwd")
    made = auth.make_password_file(password_file)
    if made:
        print(f"ovz-panel: first start: the password is {made} (kept hashed in "
              f"{password_file}; remove the file to make a new one)", file=sys.stderr)
    return asyncio.run(serve(make_app(root, password_file, args.interval), args.listen,
                             args.port))


async def serve(app, host, port):
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()  # the port taken when 0 was asked for
    print(f"ovz-panel: http://{bound[0]}:{bound[1]}/", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
