"""``chartcheck loadtest``: the scale-out stack under load, measured in one run.

For each worker count (default 1, then 2) it starts, on loopback: one API process (``chartcheck serve``), that many
Celery worker processes (``chartcheck worker``), a fresh PostgreSQL database and a cleared Redis database. It submits
N cases at once over HTTP (some deliberately bad files among them), reads case status continuously while the workers
are busy, waits for every accepted case to finish, and prints: submitted, completed, failed and lost cases, cases
recorded twice, unexpected errors, p50/p95 status-read latency, and throughput, with the ratio of 2 workers to 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHARTCHECK = [sys.executable, "-m", "app.cli"]
SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes" / "dev"
BAD_PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8  # damaged: refused at upload with a 422, by design
MIN_TEXT_CHARS = 50
READ_INTERVAL_S = 0.05  # the status reader's pause between reads: about 15 reads/s, a busy platform's polling


@dataclass
class Run:
    workers: int
    submitted: int = 0
    accepted: int = 0
    deliberate_rejects: int = 0
    errors: int = 0
    completed: int = 0
    failed: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0
    throughput: float = 0.0
    pages_per_s: float = 0.0
    read_p50_ms: float = 0.0
    read_p95_ms: float = 0.0
    reads: int = 0
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def typed_cases(include_scans: bool) -> list[list[Path]]:
    """Dev sample cases whose PDFs all have a text layer (scans too, if asked)."""
    import pypdfium2 as pdfium

    chosen = []
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        pdfs = sorted(folder.glob("*.pdf"))
        if not pdfs:
            continue
        if not include_scans:
            scanned = False
            for pdf in pdfs:
                document = pdfium.PdfDocument(str(pdf))
                text = sum(len(document[i].get_textpage().get_text_range().strip()) for i in range(len(document)))
                document.close()
                scanned |= text < MIN_TEXT_CHARS
            if scanned:
                continue
        chosen.append(pdfs)
    return chosen


class Stack:
    """API + workers + fresh database + cleared broker database, torn down on exit."""

    def __init__(self, workers: int, admin_url: str, broker_url: str, folder: Path) -> None:
        self.workers = workers
        self.admin_url = admin_url
        self.broker_url = broker_url
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.db_name = f"chartcheck_load_{uuid.uuid4().hex[:8]}"
        self.database_url = admin_url.rsplit("/", 1)[0] + f"/{self.db_name}"
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "CHARTCHECK_DATABASE_URL": self.database_url,
                    "CHARTCHECK_BROKER_URL": broker_url, "CHARTCHECK_DATA_DIR": str(folder)}

    def __enter__(self) -> Stack:
        from sqlalchemy import create_engine, text

        import redis

        redis.Redis.from_url(self.broker_url).flushdb()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        created = subprocess.run([*CHARTCHECK, "apikey", "create", "--name", "loadtest"], env=self.env,
                                 capture_output=True, text=True, check=True)
        self.key = created.stdout.strip().splitlines()[-1]
        self._start("api", [*CHARTCHECK, "serve", "--port", str(self.port), "--workers", "0"])
        for number in range(self.workers):
            self._start(f"worker{number + 1}", [*CHARTCHECK, "worker", "--concurrency", "1",
                                               "--name", f"load{number + 1}"])
        self._wait_ready()
        return self

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.processes.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        log.close()

    def _wait_ready(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            loaded = sum((self.folder / f"worker{n + 1}.log").read_text().count("pipeline loaded")
                         for n in range(self.workers))
            try:
                api_ready = httpx.get(f"{self.base}/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                api_ready = False
            if api_ready and loaded >= self.workers:
                return
            time.sleep(0.3)
        raise RuntimeError(f"the stack did not start in {timeout} s; see the logs in {self.folder}")

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import create_engine, text

        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    f"WHERE datname = '{self.db_name}' AND pid <> pg_backend_pid()"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}"'))
        admin.dispose()


def load(stack: Stack, cases: int, bad_every: int, pool: list[list[Path]], timeout: float) -> Run:
    import httpx

    run = Run(workers=stack.workers)
    headers = {"X-API-Key": stack.key}
    payloads = {tuple(paths): [(p.name, p.read_bytes()) for p in paths] for paths in pool}
    accepted: list[str] = []
    lock = threading.Lock()
    rng = random.Random(7)

    def submit(number: int) -> None:
        bad = bad_every and number % bad_every == bad_every - 1
        files = [("files", ("damaged.pdf", BAD_PDF, "application/pdf"))] if bad else [
            ("files", (name, data, "application/pdf")) for name, data in payloads[tuple(rng.choice(pool))]]
        form = {"request_type": "initial", "external_reference": f"load-{number}-{uuid.uuid4().hex[:6]}"}
        try:
            response = client.post("/api/v1/cases", files=files, data=form, headers=headers)
        except httpx.HTTPError as error:
            with lock:
                run.errors += 1
                run.notes.append(f"submit {number}: {type(error).__name__}")
            return
        with lock:
            run.submitted += 1
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            elif bad and response.status_code == 422:
                run.deliberate_rejects += 1
            else:
                run.errors += 1
                run.notes.append(f"submit {number}: HTTP {response.status_code}")

    latencies: list[float] = []
    busy = threading.Event()

    def read_status() -> None:
        with httpx.Client(base_url=stack.base, headers=headers, timeout=30) as reader:
            while busy.is_set():
                with lock:
                    case_id = rng.choice(accepted) if accepted else None
                if case_id is None:
                    time.sleep(0.01)
                    continue
                started = time.perf_counter()
                response = reader.get(f"/api/v1/cases/{case_id}/status")
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    run.errors += 1
                time.sleep(READ_INTERVAL_S)

    with httpx.Client(base_url=stack.base, timeout=120, limits=httpx.Limits(max_connections=64)) as client:
        started = time.monotonic()
        busy.set()
        reader = threading.Thread(target=read_status, daemon=True)
        reader.start()
        with ThreadPoolExecutor(max_workers=32) as submitters:
            list(submitters.map(submit, range(cases)))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = {s: client.get("/api/v1/cases", params={"status": s, "limit": 1}, headers=headers).json()["total"]
                      for s in ("done", "failed")}
            if counts["done"] + counts["failed"] >= len(accepted):
                break
            time.sleep(0.5)
        run.seconds = time.monotonic() - started
        busy.clear()
        reader.join(5)
    run.accepted = len(accepted)
    _tally(stack, accepted, run)
    run.throughput = run.completed / run.seconds if run.seconds else 0.0
    run.reads = len(latencies)
    if latencies:
        ordered = sorted(latencies)
        run.read_p50_ms = statistics.median(ordered)
        run.read_p95_ms = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return run


def _tally(stack: Stack, accepted: list[str], run: Run) -> None:
    """Count from the database: finished, failed, lost (accepted but not finished), recorded twice."""
    from sqlalchemy import create_engine, func, select

    from app.tables import AuditEvent, Case

    engine = create_engine(stack.database_url)
    with engine.connect() as connection:
        rows = dict(connection.execute(select(Case.id, Case.status).where(Case.id.in_(accepted))).all())
        pages = connection.execute(select(func.coalesce(func.sum(Case.pages_done), 0))
                                   .where(Case.status == "done")).scalar() or 0
        finished = {case_id: 0 for case_id in accepted}
        for event in connection.execute(select(AuditEvent.case_id, AuditEvent.detail)
                                        .where(AuditEvent.action == "case.status")).all():
            if event.detail and event.detail.get("to") == "done" and event.case_id in finished:
                finished[event.case_id] += 1
    engine.dispose()
    run.completed = sum(1 for case_id in accepted if rows.get(case_id) == "done")
    run.failed = sum(1 for case_id in accepted if rows.get(case_id) == "failed")
    run.lost = sum(1 for case_id in accepted if rows.get(case_id) not in ("done", "failed"))
    run.duplicated = sum(1 for count in finished.values() if count > 1)
    run.pages_per_s = pages / run.seconds if run.seconds else 0.0


def cmd_loadtest(args: argparse.Namespace) -> int:
    pool = typed_cases(args.include_scans)
    counts = [int(n) for n in args.workers.split(",")]
    runs = []
    for workers in counts:
        with tempfile.TemporaryDirectory(prefix="chartcheck-load-") as folder:
            print(f"-- {workers} worker(s): starting the stack, then {args.cases} cases at once", file=sys.stderr,
                  flush=True)
            with Stack(workers, args.postgres, args.broker, Path(folder)) as stack:
                runs.append(load(stack, args.cases, args.bad_every, pool, args.timeout))
    if args.json:
        base = runs[0].throughput or 1.0
        print(json.dumps({"runs": [asdict(r) for r in runs],
                          "speedup": {str(r.workers): r.throughput / base for r in runs}}, indent=2))
        return 0
    print(f"{'workers':>7} {'submitted':>9} {'accepted':>8} {'bad(422)':>8} {'done':>6} {'failed':>6} {'lost':>5} "
          f"{'dup':>4} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'cases/s':>8} {'pages/s':>8} {'seconds':>8}")
    for r in runs:
        print(f"{r.workers:>7} {r.submitted:>9} {r.accepted:>8} {r.deliberate_rejects:>8} {r.completed:>6} "
              f"{r.failed:>6} {r.lost:>5} {r.duplicated:>4} {r.errors:>6} {r.read_p50_ms:>7.1f} {r.read_p95_ms:>7.1f} "
              f"{r.throughput:>8.2f} {r.pages_per_s:>8.1f} {r.seconds:>8.1f}")
    if len(runs) > 1 and runs[0].throughput:
        for r in runs[1:]:
            print(f"throughput with {r.workers} workers / with {runs[0].workers}: {r.throughput / runs[0].throughput:.2f}x")
    for r in runs:
        for note in r.notes[:10]:
            print(f"  {r.workers} worker(s): {note}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("loadtest", help="submit N cases at once to API + Celery workers on loopback; "
                                             "print lost/duplicated cases, status-read latency and throughput")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    parser.add_argument("--bad-every", type=int, default=50, help="every Nth submission is a damaged PDF (0: none)")
    parser.add_argument("--include-scans", action="store_true", help="also submit the faxed-scan sample cases")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL URL whose server may create a scratch database (dropped afterwards)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/15",
                        help="Redis URL of a database the load test may clear")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the cases to finish")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_loadtest)
