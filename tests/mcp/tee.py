"""Sits between an MCP client and `contree mcp`, copying every line both
ways and recording it, so the test can scan every frame the server wrote
(for token pieces, and for anything on stdout that is not a JSON-RPC
message).

    python tee.py LOG INJECT -- COMMAND ARGS...

LOG gets one JSON object per line: {"dir": "in"|"out"|"err"|"inject", "text": ...}.
With INJECT = 1, right after the client's first `tools/list` request the
proxy also sends the server a line that is not JSON and a request for a
method that does not exist; it keeps the server's answers to those two
(id null, id "inject-...") from the client and records them, so the
client's session shows whether the server went on serving.
"""

import json
import subprocess
import sys
import threading

log_path, inject = sys.argv[1], sys.argv[2] == "1"
command = sys.argv[sys.argv.index("--") + 1 :]
log_lock = threading.Lock()
log = open(log_path, "a", encoding="utf-8")


def record(direction, raw):
    with log_lock:
        log.write(json.dumps({"dir": direction, "text": raw.decode("utf-8", "replace")}) + "\n")
        log.flush()


child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
INJECTED = [
    b"this line is not JSON\n",
    b'{"jsonrpc":"2.0","id":"inject-unknown","method":"contree/no-such-method","params":{}}\n',
]


def client_to_server():
    injected = not inject
    for raw in sys.stdin.buffer:
        record("in", raw)
        child.stdin.write(raw)
        child.stdin.flush()
        if not injected:
            try:
                method = json.loads(raw).get("method")
            except ValueError:
                method = None
            if method == "tools/list":
                injected = True
                for line in INJECTED:
                    record("inject", line)
                    child.stdin.write(line)
                child.stdin.flush()
    child.stdin.close()


def server_to_client():
    for raw in child.stdout:
        record("out", raw)
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if isinstance(message, dict) and "method" not in message:
            ident = message.get("id")
            if ident is None or (isinstance(ident, str) and ident.startswith("inject-")):
                continue  # an answer to an injected line: the client never asked
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()


def server_stderr():
    for raw in child.stderr:
        record("err", raw)
        sys.stderr.buffer.write(raw)
        sys.stderr.buffer.flush()


threads = [threading.Thread(target=f, daemon=True) for f in (server_to_client, server_stderr)]
for t in threads:
    t.start()
writer = threading.Thread(target=client_to_server, daemon=True)
writer.start()
code = child.wait()
for t in threads:
    t.join()
record("exit", str(code).encode())
sys.exit(code)
