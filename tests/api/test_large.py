"""Large data: a million tickets in one bulk call, and 100,000 streamed with flat memory."""

import json
import threading
import time

import pytest
import requests

from tests.api.helpers import BASE
from tests.servers import child_pids, running_gunicorn

MB = 1024 * 1024
STREAMED = 100_000
RSS_BUDGET = 50 * MB


@pytest.mark.slow
def test_bulk_creates_a_million_tickets(client, tables, event_id):
    started = time.perf_counter()
    response = client.post(f"{BASE}/bulk", json={"eventId": event_id, "quantity": 1_000_000})
    seconds = time.perf_counter() - started

    print(f"\nPOST /bulk of 1,000,000 tickets: {seconds:.1f} s")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ticketsCreated"] == 1_000_000
    assert tables.count("tickets", event_id=event_id) == 1_000_000


def memory_of(pid):
    """Return `{"VmRSS": bytes, "VmHWM": bytes}` of a process, read from /proc/<pid>/status."""
    sizes = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                sizes[name] = int(value.split()[0]) * 1024
    return sizes


def cpu_ticks_of(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class RssSampler:
    """Sample the workers' RSS in the background while a request streams; keep each one's peak."""

    def __init__(self, pids, interval=0.02):
        self.pids = pids
        self.interval = interval
        self.peaks = {pid: memory_of(pid)["VmRSS"] for pid in pids}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stopped.wait(self.interval):
            for pid in self.pids:
                self.peaks[pid] = max(self.peaks[pid], memory_of(pid)["VmRSS"])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()


@pytest.mark.slow
def test_event_stream_of_100k_tickets_keeps_worker_memory_flat(client, database_url, event_id):
    created = client.post(f"{BASE}/bulk", json={"eventId": event_id, "quantity": STREAMED})
    assert created.status_code == 201
    url = f"{BASE}/event/{event_id}"

    with running_gunicorn(database_url) as (base_url, master):
        workers = child_pids(master.pid)
        assert len(workers) == 2
        for _ in range(10):  # warm both workers up on the same code path
            assert requests.get(f"{base_url}{url}?page_size=2000", timeout=30).status_code == 200
        before = {pid: memory_of(pid) for pid in workers}
        ticks = {pid: cpu_ticks_of(pid) for pid in workers}

        started = time.perf_counter()
        with RssSampler(workers) as sampler, requests.get(f"{base_url}{url}", stream=True, timeout=120) as response:
            assert response.status_code == 200
            assert response.headers["Content-Type"].startswith("application/json")
            assert "Content-Length" not in response.headers
            chunks = list(response.iter_content(chunk_size=64 * 1024))
        seconds = time.perf_counter() - started
        after = {pid: memory_of(pid) for pid in workers}
        serving = max(workers, key=lambda pid: cpu_ticks_of(pid) - ticks[pid])

    body = b"".join(chunks)
    tickets = json.loads(body)
    growth = {pid: max(sampler.peaks[pid], after[pid]["VmRSS"]) - before[pid]["VmRSS"] for pid in workers}
    print(
        f"\nGET /event/{{id}} of {len(tickets):,} tickets: {len(body) / MB:.1f} MB in {seconds:.2f} s;"
        f" serving worker {serving}: VmRSS {before[serving]['VmRSS'] / MB:.1f} MB before,"
        f" {sampler.peaks[serving] / MB:.1f} MB peak, {after[serving]['VmRSS'] / MB:.1f} MB after"
        f" (VmHWM {after[serving]['VmHWM'] / MB:.1f} MB), growth {growth[serving] / MB:.1f} MB"
    )
    assert len(tickets) == STREAMED
    assert {ticket["eventId"] for ticket in tickets} == {event_id}
    ids = [ticket["ticketId"] for ticket in tickets]
    assert ids == sorted(ids)
    assert len(set(ids)) == STREAMED
    assert max(growth.values()) < RSS_BUDGET
