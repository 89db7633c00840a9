"""CPU time (user and system, from /proc) used by a process and every process below it, by name: what a benchmark's
work cost the machine, each part of the local stack apart (the app, moto's two processes, the sandbox)."""
from __future__ import annotations

import os


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()


def _name(pid: int, dynamodb_url: str) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        words = file.read().decode(errors="replace").split("\0")
    if "local.motoserver" in words:
        port = words[words.index("--port") + 1]
        return "moto-dynamodb" if f":{port}" in dynamodb_url else "moto-other"
    return next((w for w in words if w.startswith("local.")), "other") + (
        f" {words[-2]}" if "local.consumer" in words else "")


def tree_cpu(root: int, root_name: str = "app", dynamodb_url: str | None = None) -> dict[str, float]:
    """Seconds of CPU used so far by `root` (named root_name) and each process below it, summed by name; moto's
    DynamoDB process is told from its other one by `dynamodb_url` (AWS_ENDPOINT_URL_DYNAMODB by default)."""
    dynamodb_url = dynamodb_url if dynamodb_url is not None else os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "")
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = _stat(int(entry))
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):  # a process that ended meanwhile
            continue
    used: dict[str, float] = {}
    for pid, seconds in times.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor != root:
            continue
        try:
            label = root_name if pid == root else _name(pid, dynamodb_url)
        except OSError:
            continue
        used[label] = used.get(label, 0.0) + seconds
    return used


def used_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before.get(name, 0.0), 1) for name in after}


def machine_speed_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop (the best of three): this shared machine's speed at the moment.
    The same work can take a third more CPU time in a slow hour, with no steal time shown; a benchmark prints it
    before and after its run so that its figures can be read against it."""
    import time

    best = float("inf")
    for _ in range(3):
        began = time.process_time()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.process_time() - began)
    return round(1000 * best, 1)
