"""``chartcheck serve``, ``chartcheck user add`` and ``chartcheck apikey create``: run the service and give a new
installation its first credentials. All take ``--data-dir`` (and read the same ``CHARTCHECK_*`` settings)."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _settings(args: argparse.Namespace, **more: object):  # type: ignore[no-untyped-def]
    from app.settings import load_settings

    return load_settings(data_dir=args.data_dir, **more)


def _database(settings):  # type: ignore[no-untyped-def]
    from app.db import Database

    db = Database(settings.db_url)
    db.migrate()
    return db


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    settings = _settings(args, workers=args.workers)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    print(f"chartcheck: serving on http://{args.host}:{args.port} (data in {settings.data_dir.resolve()}, "
          f"{settings.workers} worker(s))", file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=20)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import os
    import tempfile

    # Before any metric exists: the pool's processes write their figures here, the main process serves the sum.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="chartcheck-metrics-"))
    from app.metrics import serve_worker_metrics
    from app.tasks import worker_main

    settings = _settings(args, broker_url=args.broker)
    if not settings.broker_url:
        print("chartcheck: error: a worker needs a broker: --broker URL or CHARTCHECK_BROKER_URL", file=sys.stderr)
        return 2
    if settings.database_url is None or settings.database_url.startswith("sqlite"):
        print("chartcheck: warning: workers on other machines need a shared database "
              "(CHARTCHECK_DATABASE_URL=postgresql+psycopg://...)", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    _database(settings).dispose()  # the schema is current before the first case
    if args.metrics_port:
        serve_worker_metrics(args.metrics_port, args.metrics_host)
    worker_main(settings, concurrency=args.concurrency or settings.workers or 1, name=args.name)
    return 0


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise SystemExit("chartcheck: error: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_user_add(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app import audit
    from app.security import check_password_strength, hash_secret
    from app.tables import User

    settings = _settings(args)
    password = _read_password(f"password for {args.name}: ")
    try:
        check_password_strength(password)
    except ValueError as error:
        print(f"chartcheck: error: {error}", file=sys.stderr)
        return 2
    db = _database(settings)
    with db.session() as session:
        if session.scalar(select(User.id).where(User.username == args.name)) is not None:
            print(f"chartcheck: error: user {args.name} exists", file=sys.stderr)
            return 2
        session.add(User(username=args.name, password_hash=hash_secret(password), role=args.role))
        audit.record(session, "cli", "user.create", None, {"user": args.name, "role": args.role})
    print(f"user {args.name} ({args.role}) added")
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from app.api.routes.admin import create_api_key

    db = _database(_settings(args))
    with db.session() as session:
        key, row = create_api_key(session, args.name, "cli")
        key_id = row.id
    print(f"API key {key_id} ({args.name}) created. Send it in the X-API-Key header; it is shown only once:")
    print(key)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    def data_dir(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", default=None, help="data folder (default ./chartcheck-data, "
                            "or CHARTCHECK_DATA_DIR)")

    serve = sub.add_parser("serve", help="run the HTTP API and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None, help="processing processes (default: all cores)")
    data_dir(serve)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a Celery worker: processes the cases the API sends to the broker")
    worker.add_argument("--broker", default=None, help="broker URL (default CHARTCHECK_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, default=None, help="processes (default: one per core)")
    worker.add_argument("--name", default=None, help="worker node name (default chartcheck-HOST-PID)")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address for the metrics (0.0.0.0 for all)")
    data_dir(worker)
    worker.set_defaults(func=cmd_worker)

    user = sub.add_parser("user", help="manage user accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a user (password from the prompt, or the first line of stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["intake", "reviewer", "admin"])
    data_dir(add)
    add.set_defaults(func=cmd_user_add)

    apikey = sub.add_parser("apikey", help="manage API keys").add_subparsers(dest="apikey_command", required=True)
    create = apikey.add_parser("create", help="create an API key for a system (printed once, as the last line)")
    create.add_argument("--name", required=True)
    data_dir(create)
    create.set_defaults(func=cmd_apikey_create)

