"""What the pages show live: a sampler thread reads every VE's state, beancounters, CPU time
and memory once a second through libovz and keeps the last minutes of them; a beancounter
watcher per running VE reports each failcnt that grows. Both reach the browsers through
server-sent events (app.py's /events): every subscriber has a queue of its own.

libovz's calls block, so the sampler runs in a thread of its own and hands what it read to
the event loop; the watchers' descriptors are read by the event loop itself (add_reader),
so a refusal shows on the page as soon as libovz sees it.
"""

import asyncio
import collections
import logging
import os
import threading
import time

import ovz

log = logging.getLogger("ovz-panel")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


class Hub:
    def __init__(self, root, loop, interval=1.0, history_seconds=600):
        self.root = root
        self.loop = loop
        self.interval = interval
        self.points = max(2, int(history_seconds / interval))
        self.history = {}  # ctid -> deque of (time, cpu %, memory MiB)
        self.latest = {}  # ctid -> the last sample of it (see _sample)
        self.events = collections.deque(maxlen=100)  # failcnt events, newest last
        self._subscribers = set()
        self._watchers = {}  # ctid -> BeancounterWatcher, owned by the event loop
        self._cpu = {}  # ctid -> (time, cpu seconds) of the last reading
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ovz-panel-sampler", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for ctid in list(self._watchers):
            self._drop_watcher(ctid)

    def subscribe(self):
        queue = asyncio.Queue(maxsize=256)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue):
        self._subscribers.discard(queue)

    def _publish(self, message):
        for queue in list(self._subscribers):
            if queue.full():
                # A browser that does not read is dropped rather than held in memory.
                self._subscribers.discard(queue)
                queue.put_nowait(None)
            else:
                queue.put_nowait(message)

    # ---- the sampler thread ----

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                sample = self._sample()
            except ovz.Error as e:
                log.warning("sampling the VEs: %s", e)
            else:
                self.loop.call_soon_threadsafe(self._take, sample)
            self._stop.wait(max(0.05, self.interval - (time.monotonic() - started)))

    def _sample(self):
        now = time.time()
        counters = ovz.all_beancounters(self.root)
        ves = {}
        for st in ovz.list_ves(self.root):
            entry = {"state": st.state, "nproc": st.nproc, "hostname": st.hostname}
            ubc = counters.get(st.ctid, [])
            entry["ubc"] = [[b.resource, b.held, b.maxheld, b.barrier, b.limit, b.failcnt]
                            for b in ubc]
            physpages = next((b.held for b in ubc if b.resource == "physpages"), 0)
            entry["mem"] = round(physpages * PAGE_SIZE / MIB, 2)
            entry["cpu"] = self._cpu_percent(st.ctid, st.state == "running")
            ves[st.ctid] = entry
        return {"time": now, "ves": ves}

    def _cpu_percent(self, ctid, running):
        if not running:
            self._cpu.pop(ctid, None)
            return 0.0
        try:
            used = ovz.VE(ctid, self.root).cpu_time()
        except ovz.Error:
            return 0.0
        now = time.monotonic()
        last = self._cpu.get(ctid)
        self._cpu[ctid] = (now, used)
        if last is None or now <= last[0] or used < last[1]:
            return 0.0
        return round(100.0 * (used - last[1]) / (now - last[0]), 1)

    # ---- the event loop ----

    def _take(self, sample):
        for ctid, entry in sample["ves"].items():
            points = self.history.setdefault(ctid, collections.deque(maxlen=self.points))
            points.append((sample["time"], entry["cpu"], entry["mem"]))
            if entry["state"] == "running" and ctid not in self._watchers:
                self._add_watcher(ctid)
        for ctid in [c for c in self.history if c not in sample["ves"]]:
            del self.history[ctid]
            self._drop_watcher(ctid)
        self.latest = sample["ves"]
        self._publish({"type": "sample", **sample})

    def _add_watcher(self, ctid):
        try:
            watcher = ovz.VE(ctid, self.root).watch_beancounters(poll_interval=0.5)
        except ovz.Error as e:
            log.warning("VE %s: no failcnt events: %s", ctid, e)
            return
        self._watchers[ctid] = watcher
        self.loop.add_reader(watcher.fileno(), self._on_event, ctid)

    def _drop_watcher(self, ctid):
        watcher = self._watchers.pop(ctid, None)
        if watcher is not None:
            self.loop.remove_reader(watcher.fileno())
            watcher.close()

    def _on_event(self, ctid):
        watcher = self._watchers.get(ctid)
        if watcher is None:
            return
        while True:
            event = watcher.next(timeout=0)
            if event is None:
                return
            message = {"type": "failcnt", "time": time.time(), "ctid": event.ctid,
                       "resource": event.resource, "failcnt": event.failcnt,
                       "previous": event.previous}
            self.events.append(message)
            self._publish(message)
