#!/usr/bin/env python3
"""Latency of `miglint server`: a keystroke in one migration of a project
to the diagnostics published for it.

    python3 scripts/bench_server.py --miglint target/release/miglint PROJECT
    python3 scripts/bench_server.py --miglint OLD --miglint NEW PROJECT

The server is started on PROJECT (for instance the 500-migration project
scripts/bench.sh generates for the hook figure), the middle migration is
opened, and each keystroke (a `didChange` with the whole text, as the server
asks for) is timed until the server publishes diagnostics for that version
of the file. Keystrokes are sent one after the other's result, with a pause
between them, as a person types; the first ones warm the cache and are not
counted. With several binaries, their keystrokes are interleaved, one
server each, so a noisy machine weighs on all alike. Prints the median, p90
and p99 in milliseconds.
"""

import argparse
import json
import pathlib
import queue
import statistics
import subprocess
import sys
import threading
import time


class Server:
    def __init__(self, binary: str, root: pathlib.Path):
        self.proc = subprocess.Popen(
            [binary, "server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )
        self.messages: "queue.Queue[dict]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(out.read(length)))

    def send(self, message: dict):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params) -> dict:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            m = self.messages.get(timeout=120)
            if m.get("id") == self.next_id and "method" not in m:
                return m

    def wait_published(self, uri: str, version: int, timeout=120.0):
        end = time.monotonic() + timeout
        while True:
            m = self.messages.get(timeout=max(0.0, end - time.monotonic()))
            if m.get("method") == "client/registerCapability":
                self.send({"id": m["id"], "result": None})
            if (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and m["params"].get("version") == version
            ):
                return m["params"]["diagnostics"]

    def stop(self):
        self.request("shutdown", None)
        self.send({"method": "exit"})
        self.proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("project", type=pathlib.Path)
    ap.add_argument("--miglint", action="append", required=True)
    ap.add_argument("--keystrokes", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--pause-ms", type=float, default=30.0)
    args = ap.parse_args()
    root = args.project.resolve()
    # Alembic's versions/ folder, or a folder named migrations.
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix in (".py", ".sql")
        and (p.parent.name == "versions" or p.parent.name == "migrations")
    )
    if not files:
        print(f"no migrations found under {root}", file=sys.stderr)
        return 2
    target = files[len(files) // 2]
    uri = target.as_uri()
    text = target.read_text()

    servers = []
    for binary in args.miglint:
        s = Server(binary, root)
        s.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {
                    "workspace": {"workspaceEdit": {"documentChanges": True}},
                },
            },
        )
        s.send({"method": "initialized", "params": {}})
        s.send(
            {
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": text,
                    }
                },
            }
        )
        s.wait_published(uri, 1)
        servers.append(s)

    times = [[] for _ in servers]
    typed = ""
    for k in range(args.warmup + args.keystrokes):
        # One more character typed into a comment at the end of the file.
        typed += "x"
        edited = text + f"# {typed}\n"
        version = k + 2
        for i, s in enumerate(servers):
            start = time.perf_counter()
            s.send(
                {
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"text": edited}],
                    },
                }
            )
            s.wait_published(uri, version)
            if k >= args.warmup:
                times[i].append((time.perf_counter() - start) * 1000)
            time.sleep(args.pause_ms / 1000)
    for s in servers:
        s.stop()

    print(f"{len(files)} migration files; keystrokes in {target.relative_to(root)}")
    print(f"{'binary':<40} {'n':>5} {'median ms':>10} {'p90 ms':>8} {'p99 ms':>8}")
    for binary, t in zip(args.miglint, times):
        t.sort()
        pct = lambda q: t[min(len(t) - 1, int(q * len(t)))]
        print(
            f"{binary:<40} {len(t):>5} {statistics.median(t):>10.1f} {pct(0.9):>8.1f} {pct(0.99):>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
