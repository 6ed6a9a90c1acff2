#!/usr/bin/python3
"""Fuzzes a worker node's port on loopback: random bytes, the known
crasher, mutated gate handshakes, and (authenticated with the node's token)
a real client's BASP frames with mutated headers and payloads. Each input
is a connection of its own, from a random 127.x.y.z address. The node must
stay alive and serve a real client afterwards; inputs after which it died
are saved. Usage:

    /usr/bin/python3 scripts/fuzz_node.py [--inputs 100000] [--build build]

Exits 0 when the node survived every input.
"""
import argparse
import hashlib
import hmac
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAGIC = b"ARTGATE1"
TOKEN = b"fuzz-token-0123456789abcdef"
CRASHER = b"\0" * 8 + struct.pack(">I", 0xFFFFFFF0) + b"\0" * 40


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def connect(port, source=None):
    s = socket.socket()
    if source:
        s.bind((source, 0))
    s.settimeout(3)
    s.connect(("127.0.0.1", port))
    return s


def authenticate(s, token=TOKEN):
    challenge = recv_exact(s, 41)
    node_nonce, mine = challenge[9:], os.urandom(32)
    proof = hmac.new(token, b"client" + node_nonce + mine, hashlib.sha256).digest()
    s.sendall(MAGIC + mine + proof)
    verdict = recv_exact(s, 33)
    if verdict[0] != 1:
        raise ConnectionError("token refused")


def frames(data):
    """Splits a BASP byte stream into (header, payload) pairs."""
    out, i = [], 0
    while i + 32 <= len(data):
        n = struct.unpack(">I", data[i + 4:i + 8])[0]
        out.append((data[i:i + 32], data[i + 32:i + 32 + n]))
        i += 32 + n
    return out


def record_client_frames(node_port, env):
    """A real client's frames to the node: a relay between them records
    what the client sends after the gate handshake."""
    relay = socket.socket()
    relay.bind(("127.0.0.1", 0))
    relay.listen(4)
    recorded = bytearray()

    def pipe(a, b, keep):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if keep:
                    recorded.extend(d)
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve():
        c, _ = relay.accept()
        n = socket.create_connection(("127.0.0.1", node_port))
        threading.Thread(target=pipe, args=(n, c, False), daemon=True).start()
        pipe(c, n, True)

    threading.Thread(target=serve, daemon=True).start()
    client(relay.getsockname()[1], env, jobs=20)
    time.sleep(0.5)
    return frames(bytes(recorded[72:]))  # past the gate's answer


def client(port, env, jobs=50):
    script = textwrap.dedent("""
        import sys, numpy as np, dx_engine
        ie = dx_engine.InferenceEngine(sys.argv[1])
        x = [np.zeros(ie.get_input_size(), np.uint8)]
        ids = [ie.run_async(x) for _ in range(int(sys.argv[2]))]
        for i in ids:
            ie.wait(i)
        print("served", len(ids))
    """)
    r = subprocess.run([sys.executable, "-c", script,
                        os.path.join(REPO, "models", "tiny_cnn.onnx"), str(jobs)],
                       capture_output=True, text=True, timeout=120,
                       env=dict(env, ACTORRT_NODES=f"127.0.0.1:{port}"))
    return r.returncode == 0 and f"served {jobs}" in r.stdout, r.stderr


def mutate_frame(rng, header, payload):
    h, p = bytearray(header), bytearray(payload)
    choice = rng.randrange(8)
    if choice == 0:
        h[0] = rng.randrange(256)  # operation
    elif choice == 1:  # payload length: 0, huge, off by some, random
        n = rng.choice([0, 1, 0xFFFFFFFF, 0xFFFFFFF0, 0x7FFFFFFF, len(p) + 1,
                        max(0, len(p) - 1), rng.randrange(1 << 32)])
        h[4:8] = struct.pack(">I", n)
    elif choice == 2:
        i = rng.randrange(8, 32)
        h[i] = rng.randrange(256)  # operation data, actor ids
    elif choice == 3 and p:
        for _ in range(rng.randrange(1, 8)):
            p[rng.randrange(len(p))] = rng.randrange(256)
    elif choice == 4 and p:
        p = p[:rng.randrange(len(p))]
        h[4:8] = struct.pack(">I", len(p))
    elif choice == 5:
        p += os.urandom(rng.randrange(1, 64))
        h[4:8] = struct.pack(">I", len(p))
    elif choice == 6 and p:  # a length inside the payload (vectors, strings)
        i = rng.randrange(len(p))
        p[i:i + 4] = struct.pack(">I", rng.choice([0xFFFFFFFF, 0x7FFFFFFF,
                                                   rng.randrange(1 << 32)]))
        h[4:8] = struct.pack(">I", len(p))
    else:
        h[3] = rng.randrange(256)  # flags
    return bytes(h) + bytes(p)


def one_input(rng, port, recorded, kinds):
    source = f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    kind = rng.choice(kinds)
    s = connect(port, source)
    try:
        if kind == 0:
            s.sendall(os.urandom(rng.randrange(1, 4096)))
        elif kind == 1:
            s.sendall(CRASHER)
        elif kind == 2:  # a mutated gate answer
            recv_exact(s, 41)
            answer = bytearray(MAGIC + os.urandom(64))
            answer[rng.randrange(len(answer))] ^= 0xFF
            s.sendall(bytes(answer))
        else:  # authenticated: a real client's frames, one mutated
            authenticate(s)
            k = rng.randrange(1, len(recorded) + 1)
            chosen = list(recorded[:k])
            target = rng.randrange(len(chosen))
            data = b""
            for i, (h, p) in enumerate(chosen):
                data += mutate_frame(rng, h, p) if i == target else h + p
            if kind == 9:
                data += CRASHER  # after authenticating, too
            s.sendall(data)
        s.settimeout(0.05)
        try:
            s.recv(65536)
        except OSError:
            pass
    except OSError:
        pass  # the node dropped us: that is allowed
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=100000)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--kinds", default="0,1,2,3,4,5,6,7,8,9",
                    help="0 random bytes, 1 the known crasher, 2 a mutated "
                         "gate answer, 3-8 a real client's frames with one "
                         "mutated, 9 the same then the crasher")
    args = ap.parse_args()
    kinds = [int(k) for k in args.kinds.split(",")]
    with tempfile.TemporaryDirectory(prefix="actorrt-fuzz-") as work:
        return fuzz(args, kinds, work)


def fuzz(args, kinds, work):
    token_file = os.path.join(work, "token")
    with open(token_file, "wb") as f:
        f.write(TOKEN + b"\n")
    os.chmod(token_file, 0o600)
    env = dict(os.environ, PYTHONPATH=os.path.join(args.build, "python"),
               ACTORRT_DEVICES="none", ACTORRT_NODE_TOKEN_FILE=token_file,
               ACTORRT_STATUS="off")
    node = subprocess.Popen([os.path.join(args.build, "tools", "actorrt-node"),
                             "--devices", "sim:2", "--token-file", token_file,
                             "--max-message-mib", "64"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    port = int(node.stdout.readline().rsplit(":", 1)[1])
    recorded = record_client_frames(port, env)
    print(f"node on port {port}; {len(recorded)} frames recorded from a real "
          f"client; {args.inputs} inputs", flush=True)
    done = [0]
    lock = threading.Lock()
    crash = []

    def worker(seed):
        rng = random.Random(seed)
        while not crash:
            with lock:
                if done[0] >= args.inputs:
                    return
                done[0] += 1
                n = done[0]
            state = rng.getstate()
            one_input(rng, port, recorded, kinds)
            if node.poll() is not None:
                crash.append((n, seed, state))
                return
            if n % 10000 == 0:
                print(f"  {n} inputs, node alive", flush=True)

    threads = [threading.Thread(target=worker, args=(args.seed * 1000 + i,))
               for i in range(args.threads)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.time() - start
    if crash:
        n, seed, _ = crash[0]
        print(f"CRASH: the node died at input {n} (worker seed {seed}), "
              f"exit {node.returncode}")
        return 1
    # The node may still be working through the last inputs' connections
    # (CAF drops a silent peer after its 3 s connection timeout): a real
    # client must be served within a few tries, not necessarily the first.
    for attempt in range(1, 4):
        served, err = client(port, env)
        if served:
            break
        time.sleep(3)
    rss = 0
    with open(f"/proc/{node.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
    node.terminate()
    node.wait(10)
    print(f"{done[0]} inputs in {seconds:.0f} s, 0 crashes; node RSS {rss} MiB; "
          f"a real client {'was served' if served else 'FAILED: ' + err}"
          f" (attempt {attempt})")
    return 0 if served else 1


if __name__ == "__main__":
    sys.exit(main())
