"""Background prefetching: a thread fills a bounded queue while the model trains.

The producer runs an ordinary iterator (reading shards, one-hot encoding, augmenting) in a
daemon thread; the consumer iterates the :class:`Prefetcher`. Items keep their order, so
prefetching never changes what is trained on. An exception in the producer is re-raised in
the consumer; leaving the ``with`` block early stops the producer.
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetcher(Generic[T]):
    """Iterate ``source`` in a background thread, at most ``depth`` items ahead.

    Args:
        source: any iterable (consumed in the background thread only).
        depth: queue capacity (items produced ahead of the consumer).
        name: thread name.

    Use as a context manager (``with Prefetcher(it) as items: for x in items: ...``) so the
    thread is stopped when the loop ends early.
    """

    def __init__(self, source: Iterable[T], depth: int = 4, name: str = "crossreg-prefetch") -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            self._put(_Failure(err))
            return
        self._put(_DONE)

    def start(self) -> "Prefetcher[T]":
        """Start the producer thread (done automatically on first iteration)."""
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        self.start()
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def close(self) -> None:
        """Stop the producer and wait for its thread to end."""
        self._stop.set()
        if self._started:
            while self._thread.is_alive():
                try:
                    self._queue.get(timeout=0.1)
                except queue.Empty:
                    pass
            self._thread.join()

    def __enter__(self) -> "Prefetcher[T]":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
