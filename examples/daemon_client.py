#!/usr/bin/env python3
"""Drive `lockphone daemon` over its control socket (Python 3 standard library only).

Connects, subscribes to events, places a call, prints every event, hangs up after a few
seconds of conversation and prints the call's verdict. Protocol: docs/control-api.md.

    lockphone daemon -c lockphone.toml --socket /tmp/lockphone.sock &
    python3 examples/daemon_client.py /tmp/lockphone.sock sips:bob@example.com --seconds 3

Exit status: 0 when the call was answered and Encrypted, 1 otherwise, 2 on a protocol error.
"""

import argparse
import json
import socket
import sys
import time


class Daemon:
    """A JSON-lines connection to the daemon."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buffer = b""
        self.next_id = 0
        hello = self.read(timeout=10)
        if hello is None or hello.get("type") != "hello":
            raise RuntimeError(f"unexpected greeting: {hello}")

    def read(self, timeout):
        """The next message, or None if nothing came within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise RuntimeError("the daemon closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def send(self, command, **fields):
        """Sends a command; returns its id."""
        self.next_id += 1
        message = {"id": self.next_id, "command": command, **fields}
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        return self.next_id

    def request(self, command, on_event, **fields):
        """Sends a command and waits for its answer; events meanwhile go to `on_event`."""
        wanted = self.send(command, **fields)
        while True:
            message = self.read(timeout=30)
            if message is None:
                raise RuntimeError(f"no answer to {command}")
            if message["type"] == "event":
                on_event(message)
            elif message.get("id") == wanted:
                if message["type"] == "error":
                    error = message["error"]
                    raise RuntimeError(f"{command}: {error['code']}: {error['message']}")
                return message["result"]


def describe(event):
    """One line for an event."""
    name = event["event"]
    if name == "call-security":
        verdict = event["verdict"]
        return f"{name}: {verdict['level']} (lock: {verdict['lock']})"
    if name == "call-ended":
        summary = event["summary"]
        level = (summary.get("verdict") or {}).get("level", "none")
        return f"{name}: {summary['end_reason']}, verdict {level}"
    details = {k: v for k, v in event.items() if k not in ("type", "event", "security")}
    return f"{name}: {json.dumps(details)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket", help="the daemon's control socket")
    parser.add_argument("uri", help="whom to call")
    parser.add_argument("--seconds", type=float, default=3.0, help="talk this long")
    parser.add_argument("--play", default="tone:440", help="tone:HZ, silence, file:PATH")
    args = parser.parse_args()

    daemon = Daemon(args.socket)
    state = {"answered_at": None, "level": None, "ended": None}

    def on_event(event):
        print("event", describe(event), flush=True)
        name = event["event"]
        if name == "call-answered":
            state["answered_at"] = time.monotonic()
        elif name == "call-security":
            state["level"] = event["verdict"]["level"]
        elif name == "call-ended":
            state["ended"] = event["summary"]

    daemon.request("subscribe", on_event, stats=False)
    call = daemon.request("call", on_event, uri=args.uri, play=args.play)["call"]
    print(f"call {call} placed to {args.uri}", flush=True)

    hung_up = False
    deadline = time.monotonic() + 60
    while state["ended"] is None and time.monotonic() < deadline:
        answered = state["answered_at"]
        if not hung_up and answered is not None and time.monotonic() - answered >= args.seconds:
            daemon.request("hangup", on_event, call=call)
            print(f"call {call} hung up", flush=True)
            hung_up = True
            continue
        message = daemon.read(timeout=0.2)
        if message is not None and message["type"] == "event":
            on_event(message)

    if state["ended"] is None:
        print("the call did not end in time", file=sys.stderr)
        return 1
    print(f"verdict: {state['level']}", flush=True)
    return 0 if state["answered_at"] is not None and state["level"] == "encrypted" else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ValueError) as error:
        print(f"daemon_client: {error}", file=sys.stderr)
        sys.exit(2)
