#!/usr/bin/env python3
"""A burst of large bodies against a running `cansend serve`, with small
can-send requests sent alongside; prints one JSON line of what came back.

    scripts/burst.py HOST:PORT PID [--bodies 2000] [--parallel 500] [--items 100000]

Large bodies are can-send requests whose `client.channels` has ITEMS
entries (~0.9 MB for 100,000). While they run, small valid can-sends are
sent one after another on their own connections. The server's peak RSS is
sampled from /proc/PID/status (VmRSS, every 20 ms, and VmHWM at the end).
Standard library only: no client package to install.
"""
import argparse, asyncio, json, os, socket, sys, time

SMALL = json.dumps({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["email"]},
                    "channel": "email", "message": {"text": "hello"}}).encode()


def big_body(items):
    return json.dumps({"sender": {"role": "agent"},
                       "client": {"status": "existing", "channels": [f"c{i}" for i in range(items)]},
                       "channel": "email", "message": {"text": "hello"}}).encode()


def request(host, path, body):
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


async def exchange(host, port, payload):
    """Send one request, read the whole answer: (status, content type) or the error's name."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(payload)
        await writer.drain()
        data = await reader.read()
        writer.close()
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        ctype = next((h.split(":", 1)[1].strip() for h in head[1:] if h.lower().startswith("content-type:")), "")
        return status, ctype
    except Exception as e:  # a reset, a refused connection: counted, never hidden
        return type(e).__name__, ""


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("pid", type=int)
    ap.add_argument("--bodies", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=500)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--settle", type=float, default=5.0, help="seconds to wait before RSS after")
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    port = int(port)
    big = request(host, "/v1/can-send", big_body(a.items))
    small = request(host, "/v1/can-send", SMALL)
    rss_before = rss_kib(a.pid)
    peak = [rss_before]
    done = asyncio.Event()

    async def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(a.pid))
            await asyncio.sleep(0.02)

    statuses = {}
    sem = asyncio.Semaphore(a.parallel)

    async def one_big():
        async with sem:
            s, ct = await exchange(host, port, big)
            key = f"{s} {'problem' if ct.startswith('application/problem+json') else ct}"
            statuses[key] = statuses.get(key, 0) + 1

    small_ok = small_total = 0

    async def smalls():
        nonlocal small_ok, small_total
        while not done.is_set():
            s, _ = await exchange(host, port, small)
            small_total += 1
            small_ok += s == 200
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    smallers = [asyncio.create_task(smalls()) for _ in range(4)]
    t0 = time.monotonic()
    await asyncio.gather(*(one_big() for _ in range(a.bodies)))
    secs = time.monotonic() - t0
    done.set()
    await sampler
    for s in smallers:
        await s
    await asyncio.sleep(a.settle)
    out = {
        "bodies": a.bodies, "parallel": a.parallel, "body_bytes": len(big_body(a.items)), "seconds": round(secs, 1),
        "statuses": statuses, "rss_before_mib": round(rss_before / 1024, 1),
        "peak_rss_mib": round(max(peak[0], rss_kib(a.pid, "VmHWM")) / 1024, 1),
        "rss_after_mib": round(rss_kib(a.pid) / 1024, 1),
        "small_ok": small_ok, "small_total": small_total,
        "small_ok_fraction": round(small_ok / small_total, 3) if small_total else None,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
