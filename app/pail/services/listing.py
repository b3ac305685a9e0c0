"""Listing: a connection's buckets, and paging through one level with running totals.

The tree shows page 1 as soon as it arrives and fetches page 2 only when asked ("load
more"), so a prefix with 100,000 keys never has to be listed whole before rows show.
"""

from __future__ import annotations

import threading

from pail.drivers.base import DEFAULT_PAGE_SIZE, Bucket, Entry, Page, StorageDriver


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
