"""Split perf samples (`perf script -F ip,sym`) of `cansend serve` by stage.

Each sample goes to the first stage (in the order below) that any frame of
its stack belongs to, so a stage's share includes what it calls. With the
server's CPU per request as second argument, shares are also shown in µs.
"""
import collections
import sys

STAGES = [
    ("kernel: writev (send, and loopback delivery)", "__GI___writev"),
    ("kernel: recv", "__libc_recv"),
    ("kernel: epoll", "epoll_wait"),
    ("kernel: futex", "futex"),
    ("kernel: madvise (allocator purge)", "madvise"),
    ("handler: decode", "CanSendRequest::from_slice"),
    ("handler: decode (batch)", "decode_fast"),
    ("handler: read the body", "service::body::read"),
    ("handler: bind + evaluate + answer", "Engine::decide_with"),
    ("handler: render JSON", "service::api::json"),
    ("handler: ring + decision log", "Keep::decided"),
    ("handler: rest", "decide::can_send"),
    ("handler: rest (batch)", "decide::batch"),
    ("access log", "access_log"),
    ("front (request id, route, guard, admission, metrics)", "front::"),
    ("router (other routes)", "axum::routing"),
    ("hyper (parse, encode, connection)", "hyper::"),
    ("tokio (scheduler)", "tokio::"),
    ("allocator", "mi_"),
]

def main():
    samples = open(sys.argv[1]).read().split("\n\n")
    per_request_us = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    counts = collections.Counter()
    total = 0
    for sample in samples:
        frames = [line.strip().split(" ", 1)[-1] for line in sample.strip().split("\n") if line.strip()]
        if not frames:
            continue
        total += 1
        for name, pattern in STAGES:
            if any(pattern in f for f in frames):
                counts[name] += 1
                break
        else:
            counts["other"] += 1
    print("| stage | share | µs per request |")
    print("|---|---:|---:|")
    for name, n in counts.most_common():
        print(f"| {name} | {n / total * 100:.1f} % | {n / total * per_request_us:.2f} |")

if __name__ == "__main__":
    main()
