"""Listing: a connection's buckets, and paging through one level with running totals.

The tree shows page 1 as soon as it arrives and fetches page 2 only when asked ("load
more"), so a prefix with 100,000 keys never has to be listed whole before rows show.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pail.drivers.base import DEFAULT_PAGE_SIZE, Bucket, Entry, Page, StorageDriver, iter_pages
from pail.drivers.errors import AccessDenied, NotFound
from pail.services.walk import level_batches, ordered_batches


def list_buckets(driver: StorageDriver) -> list[Bucket]:
    """Every bucket the identity can see, in the store's order (S3 ListBuckets, GCS
    ``buckets.list``, the sub-folders of a local root): a connection's first level.

    Raises:
        StorageError: the request failed (AccessDenied without s3:ListAllMyBuckets ...).
    """
    return driver.list_buckets()


class LevelPager:
    """Fetches one level (``bucket`` + ``prefix`` + ``delimiter``) a page at a time.

    Call :meth:`fetch_next` from a worker thread; it is serialised by a lock, so two
    "load more" presses cannot fetch the same page twice.

    Attributes:
        pages_loaded: pages fetched so far.
        objects: objects seen so far; ``bytes``: their total size in bytes;
        prefixes: common prefixes seen so far.
        has_more: True until the last page has been fetched.
    """

    def __init__(
        self,
        driver: StorageDriver,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "/",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.driver = driver
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.page_size = page_size
        self.pages_loaded = 0
        self.objects = 0
        self.bytes = 0
        self.prefixes = 0
        self._token: str | None = None
        self._done = False
        self._lock = threading.Lock()

    @property
    def has_more(self) -> bool:
        """True while another page may exist."""
        return not self._done

    def fetch_next(self) -> Page:
        """Fetch the next page and update the totals.

        Returns an empty last page when called after the end.

        Raises:
            StorageError: whatever the driver raises; the pager stays at the same page, so
                calling again retries it.
        """
        with self._lock:
            if self._done:
                return Page(())
            page = self.driver.list_page(
                self.bucket,
                self.prefix,
                delimiter=self.delimiter,
                token=self._token,
                page_size=self.page_size,
            )
            self._token = page.next_token
            self._done = page.next_token is None
            self.pages_loaded += 1
            self._count(page.entries)
            return page

    def _count(self, entries: tuple[Entry, ...]) -> None:
        for entry in entries:
            if entry.is_prefix:
                self.prefixes += 1
            else:
                self.objects += 1
                self.bytes += entry.size or 0


#: Keys in the first page of ``pail ls``: its first rows come sooner (a 1,000-key page
#: takes the store and the parser several times as long as 100 keys); later pages are full.
FIRST_PAGE = 100


def named_batches(
    driver: StorageDriver, bucket: str, key: str, *, delimiter: str = "/"
) -> Iterator[list[Entry]]:
    """What ``pail ls`` shows for ``bucket``/``key``, in batches (one per listing page, so
    rows can be printed as each page arrives).

    * ``key`` empty or ending in ``/``: that level (``delimiter="/"``) or every key under
      it (``delimiter=""``); nothing at all when the prefix has no key (see
      :func:`no_such_prefix`).
    * any other ``key`` names an object, a prefix (``key/``), or both (S3 and GCS allow an
      object ``runs/run-1`` beside keys under ``runs/run-1/``). The object is looked up
      (HeadObject) and the prefix listed: only the prefix, its level (or every key under
      it); only the object, that object; both, the object and then, one level at a time,
      the prefix as one entry (``key/``) or, with ``delimiter=""``, every key under it.

    Raises:
        NotFound: ``key`` names neither an object nor a prefix (message "no such object or
            prefix"). StorageError: from the driver.
    """
    if not key or key.endswith("/"):
        if not delimiter:  # child prefixes listed concurrently, printed in key order
            yield from ordered_batches(driver, bucket, key)
            return
        # A big level is listed in key ranges at once, in order (level_batches).
        yield from level_batches(
            driver, bucket, key, delimiter=delimiter, first_page_size=FIRST_PAGE
        )
        return
    pages = iter_pages(driver, bucket, key + "/", delimiter=delimiter, prefetch=True)
    first: list[Entry] = []
    try:
        for page in pages:  # up to the first page with entries (a store may send empty ones)
            if page.entries:
                first = list(page.entries)
                break
    except NotFound as exc:  # e.g. a local path that is a file, not a folder
        if exc.bucket_missing:
            raise
        first = []
    obj = _object_entry(driver, bucket, key, must_exist=not first)
    if obj is not None and first and delimiter:
        yield [obj, Entry(key + "/", "prefix")]
        return
    if obj is not None:
        yield [obj]
    if not first:
        return
    yield first
    for page in pages:
        if page.entries:
            yield list(page.entries)


def _object_entry(driver: StorageDriver, bucket: str, key: str, *, must_exist: bool):
    """The object ``key`` as an Entry (HeadObject), ``None`` when there is none. When the
    prefix ``key/`` was found (``must_exist`` False) a 404 or 403 on the lookup only means
    the object is not shown; otherwise a 404 is "no such object or prefix"."""
    try:
        info = driver.head(bucket, key)
    except NotFound as exc:
        if not must_exist:
            return None
        raise NotFound(
            f"no such object or prefix: nothing is named {key!r} and no key starts with "
            f"{key + '/'!r}",
            operation=exc.operation or "HeadObject",
            provider=exc.provider,
            bucket=bucket,
            key=key,
            status=exc.status,
            code=exc.code or "NoSuchKey",
            request_id=exc.request_id,
            endpoint=exc.endpoint,
        ) from exc
    except AccessDenied:
        if must_exist:
            raise
        return None
    return Entry(
        key=info.key,
        type="object",
        size=info.size,
        last_modified=info.last_modified,
        etag=info.etag,
        storage_class=info.storage_class,
        version_id=info.version_id,
    )
