"""Load for the trading platform: three user classes that register, log in and
then loop with think times, and an event hook that writes every request into
demandsim's canonical requests.csv (gzip).

Environment (set by runner.py):
  DS_REQUESTS      where to write requests.csv.gz (no file when unset)
  DS_WINDOW_START  epoch seconds; requests that start earlier are warm-up, dropped
  DS_WINDOW_END    epoch seconds; requests that start later are dropped
  DS_MIX           weights, e.g. "ActiveUser=2,ReadOnlyUser=1,AnalyticalUser=1"
  DS_THINK         mean think time in seconds (uniform from 0.5x to 1.5x)
  DS_SESSION_TASKS mean number of requests per session before the user logs in again
"""
import csv
import gzip
import itertools
import os
import random
import uuid

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

THINK = float(os.environ.get("DS_THINK", "1.0"))
SESSION_TASKS = float(os.environ.get("DS_SESSION_TASKS", "25"))
COMPANIES = int(os.environ.get("DS_COMPANIES", "50"))
MIX = dict(
    (name, float(weight))
    for name, weight in (item.split("=") for item in os.environ.get("DS_MIX", "").split(",") if item)
)
_ids = itertools.count(1)


class _Trace:
    """The canonical requests.csv: timestamp (start, epoch seconds), response
    time (seconds), class (the endpoint), success, and who sent it."""

    COLUMNS = ["timestamp", "response_time", "class", "success", "user_class", "user", "session"]

    def __init__(self, path, start, end):
        self.start, self.end = start, end
        self.file = gzip.open(path, "wt", newline="", compresslevel=6) if path else None
        self.writer = csv.writer(self.file) if self.file else None
        if self.writer:
            self.writer.writerow(self.COLUMNS)

    def write(self, start_time, response_time_ms, name, ok, context):
        if self.writer is None or not (self.start <= start_time < self.end):
            return
        self.writer.writerow([
            "%.6f" % start_time, "%.6f" % (response_time_ms / 1000.0), name, "true" if ok else "false",
            context.get("user_class", ""), context.get("user", ""), context.get("session", ""),
        ])

    def close(self):
        if self.file:
            self.file.close()
            self.file = self.writer = None


TRACE = _Trace(
    os.environ.get("DS_REQUESTS"),
    float(os.environ.get("DS_WINDOW_START", "0")),
    float(os.environ.get("DS_WINDOW_END", "inf")),
)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, context=None, start_time=None, **kw):
    TRACE.write(start_time, response_time, name, exception is None, context or {})


@events.quitting.add_listener
def _close(environment, **kw):
    TRACE.close()


class Trader(FastHttpUser):
    """Registers, logs in, then loops; every SESSION_TASKS requests on average
    the session ends and the user logs in again (a new session)."""

    abstract = True
    wait_time = between(0.5 * THINK, 1.5 * THINK)

    def context(self):
        return {"user_class": type(self).__name__, "user": self.username, "session": self.session}

    def on_start(self):
        self.username = "%s-%d-%s" % (type(self).__name__, next(_ids), uuid.uuid4().hex[:8])
        self.session, self.sessions, self.token = "", 0, None
        self.client.post("/api/register", json={"username": self.username, "password": "pw-" + self.username},
                         name="register")
        self._login()

    def _login(self):
        self.sessions += 1
        self.session = "%s-s%d" % (self.username, self.sessions)
        with self.client.post("/api/login", json={"username": self.username, "password": "pw-" + self.username},
                              name="login", catch_response=True) as r:
            if r.status_code == 200:
                self.token = r.json()["token"]
                self.client.auth_header = "Token " + self.token
            else:
                r.failure("login: HTTP %s" % r.status_code)

    def _next_request(self):
        if random.random() < 1.0 / SESSION_TASKS:
            self._login()

    def _company(self):
        return random.randint(1, COMPANIES)

    def companies(self):
        self.client.get("/api/companies", name="companies")

    def rate(self):
        self.client.get("/api/companies/%d/rate" % self._company(), name="rate")

    def holdings(self):
        self.client.get("/api/holdings", name="holdings")

    def offer(self, kind):
        price = round(random.uniform(50, 60), 2)
        self.client.post("/api/offers/" + kind, json={"company": self._company(), "quantity": random.randint(1, 20),
                                                      "price": price}, name=kind)

    def own_offers(self):
        self.client.get("/api/offers", name="offers")

    def own_transactions(self):
        self.client.get("/api/transactions", name="transactions")

    def history(self):
        self.client.get("/api/companies/%d/history" % self._company(), name="history")


class ActiveUser(Trader):
    """The full range, write-heavy."""

    weight = MIX.get("ActiveUser", 1)

    @task
    def step(self):
        self._next_request()
        random.choices(
            [self.companies, self.rate, self.holdings, lambda: self.offer("buy"), lambda: self.offer("sell"),
             self.own_offers, self.own_transactions],
            weights=[2, 4, 2, 2, 2, 1, 1])[0]()


class ReadOnlyUser(Trader):
    """GET requests only."""

    weight = MIX.get("ReadOnlyUser", 1)

    @task
    def step(self):
        self._next_request()
        random.choices([self.companies, self.rate, self.holdings], weights=[3, 5, 2])[0]()


class AnalyticalUser(Trader):
    """Like ActiveUser, plus the CPU-heavy history requests."""

    weight = MIX.get("AnalyticalUser", 1)

    @task
    def step(self):
        self._next_request()
        random.choices(
            [self.companies, self.rate, self.holdings, lambda: self.offer("buy"), lambda: self.offer("sell"),
             self.own_offers, self.own_transactions, self.history],
            weights=[2, 4, 2, 1, 1, 1, 1, 3])[0]()
