"""Completion notices to the UM platform: an optional callback URL per case, POSTed when the case is done or failed,
retried with doubling delays. The notice carries ids and the outcome only; the platform reads the determination
through the API with its key."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.settings import Settings
from app.tables import Callback, Case

log = logging.getLogger("chartcheck.callbacks")
TIMEOUT_S = 10.0
POLL_S = 0.5


def enqueue(session: Session, case: Case) -> None:
    if not case.callback_url:
        return
    payload = {
        "case_id": case.id,
        "status": case.status,
        "suggested_outcome": case.suggested_outcome,
        "external_reference": case.external_reference,
        "url": f"/api/v1/cases/{case.id}",
    }
    session.add(Callback(case_id=case.id, url=case.callback_url, payload=payload))


class Notifier(threading.Thread):
    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(name="chartcheck-callbacks", daemon=True)
        self.db = db
        self.settings = settings
        self.stopping = threading.Event()
        self.client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.deliver_due()
            except Exception:  # noqa: BLE001 - a database hiccup must not end deliveries; logged and retried
                log.exception("callback delivery round failed")
            self.stopping.wait(POLL_S)
        self.client.close()

    def deliver_due(self) -> None:
        now = datetime.now(timezone.utc)
        with self.db.session() as session:
            due = session.scalars(
                select(Callback).where(Callback.status == "pending", Callback.next_attempt_at <= now).limit(20)
            ).all()
            work = [(c.id, c.url, c.payload) for c in due]
        for callback_id, url, payload in work:
            if not self.claim(callback_id):
                continue  # another API process is delivering it
            error = self.post(url, payload)
            with self.db.session() as session:
                callback = session.get(Callback, callback_id)
                if callback is None:
                    continue
                callback.attempts += 1
                if error is None:
                    callback.status = "delivered"
                    callback.last_error = None
                    continue
                callback.last_error = error
                if callback.attempts >= self.settings.callback_attempts:
                    callback.status = "failed"
                    log.warning("callback %s for case %s given up after %d attempts", callback_id,
                                callback.case_id, callback.attempts)
                else:
                    delay = self.settings.callback_backoff_s * 2 ** (callback.attempts - 1)
                    callback.next_attempt_at = datetime.now(timezone.utc) + timedelta(seconds=delay)

    def claim(self, callback_id: int) -> bool:
        """Hold the notice while posting it: push its next attempt past the post's timeout, if still due."""
        moment = datetime.now(timezone.utc)
        with self.db.session() as session:
            held = session.execute(
                update(Callback).where(Callback.id == callback_id, Callback.status == "pending",
                                       Callback.next_attempt_at <= moment)
                .values(next_attempt_at=moment + timedelta(seconds=TIMEOUT_S * 2))
            )
            return held.rowcount == 1

    def post(self, url: str, payload: dict) -> str | None:
        try:
            response = self.client.post(url, json=payload)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def stop(self) -> None:
        self.stopping.set()
        self.join(TIMEOUT_S + 2)
