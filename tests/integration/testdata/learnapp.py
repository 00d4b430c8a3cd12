# A small server and its client, for the learn-then-enforce test.
#
# The server answers three requests on 127.0.0.1:8080 and appends each to a
# log under /var/log/learnapp; the client talks to it and to an upstream
# service on the host ($GW:$PORT). EXTRA adds one new behaviour that the
# learned profile must block: "shell" (the server spawns a shell), "etc" (a
# write to /etc) or "port" (a connection to a new upstream port). It prints
# "extra=blocked" when the new behaviour failed, "extra=ok" when it ran.
import os
import socket
import threading

GW, PORT, OTHER, EXTRA = os.environ["GW"], int(os.environ["PORT"]), int(os.environ["OTHER"]), os.environ.get("EXTRA", "")

os.makedirs("/var/log/learnapp", exist_ok=True)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 8080))
srv.listen(8)


def extra():
    try:
        if EXTRA == "shell":
            # system(3): fork and exec /bin/sh, as a command injection would.
            status = os.system("id >/dev/null")
            if status != 0:
                return "blocked (system: status %d)" % status
        elif EXTRA == "etc":
            with open("/etc/learnapp.conf", "w") as f:
                f.write("x\n")
        elif EXTRA == "port":
            socket.create_connection((GW, OTHER), timeout=5).close()
        return "ok"
    except OSError as e:
        return "blocked (%s)" % e


def serve():
    for i in range(3):
        conn, _ = srv.accept()
        with conn:
            req = conn.recv(100).decode()
            with open("/var/log/learnapp/access.log", "a") as log:
                log.write(req + "\n")
            reply = "hello " + req
            if req == "extra":
                reply = "extra=" + extra()
            conn.sendall(reply.encode())


t = threading.Thread(target=serve)
t.start()
served = 0
for req in ["one", "two", "extra" if EXTRA else "three"]:
    with socket.create_connection(("127.0.0.1", 8080)) as c:
        c.sendall(req.encode())
        reply = c.recv(200).decode()
        if reply.startswith("extra="):
            print(reply.split(" ")[0] if reply == "extra=ok" else "extra=blocked", flush=True)
            print("detail:", reply, flush=True)
        served += 1
t.join()
print("served=%d" % served, flush=True)
with socket.create_connection((GW, PORT), timeout=5) as c:
    print("upstream=" + c.recv(10).decode().strip(), flush=True)
with open("/etc/hostname") as f:
    f.read()
