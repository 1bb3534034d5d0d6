"""Times commands interleaved (A, B, B, A, ...), so a drifting machine
slows them alike, and prints each command's median and fastest run.

    python3 scripts/compare.py [--runs N] [--cwd DIR] "OLD lint DIR --no-cache" "NEW lint DIR --no-cache"

Use it to compare two builds of miglint (the last release and a change)
on one corpus (`cargo run --release --example gen-corpus -- ...`).
"""

import argparse
import shlex
import statistics
import subprocess
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cwd")
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    commands = [shlex.split(c) for c in args.commands]

    def once(command):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=args.cwd)
        return time.perf_counter() - start

    for command in commands:  # warm the file cache
        once(command)
    times = [[] for _ in commands]
    for i in range(args.runs):
        order = range(len(commands)) if i % 2 == 0 else reversed(range(len(commands)))
        for k in order:
            times[k].append(once(commands[k]))
    for text, t in zip(args.commands, times):
        print(f"median {statistics.median(t) * 1000:8.1f} ms   fastest {min(t) * 1000:8.1f} ms   {text}")


if __name__ == "__main__":
    main()
