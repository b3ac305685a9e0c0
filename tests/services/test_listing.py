"""LevelPager against a real folder (LocalDriver); S3/GCS paging is in the driver contract."""

from pail.drivers.local import LocalDriver
from pail.services.listing import LevelPager


def make_level(tmp_path, count: int):
    bucket = tmp_path / "bucket"
    (bucket / "runs" / "sub").mkdir(parents=True)
    for i in range(count):
        (bucket / "runs" / f"k{i:05d}.txt").write_bytes(b"x" * (i % 7))
    return LocalDriver(str(tmp_path))


def test_pager_fetches_pages_in_order_with_totals(tmp_path):
    driver = make_level(tmp_path, 25)
    pager = LevelPager(driver, "bucket", "runs/", page_size=10)
    keys = []
    while pager.has_more:
        keys.extend(e.key for e in pager.fetch_next().entries)
    assert pager.pages_loaded == 3
    assert keys[:2] == ["runs/k00000.txt", "runs/k00001.txt"]
    assert len(keys) == len(set(keys)) == 26
    assert pager.prefixes == 1 and pager.objects == 25
    assert pager.bytes == sum(i % 7 for i in range(25))
    # After the end, further calls return an empty page and change nothing.
    assert pager.fetch_next().entries == ()
    assert pager.pages_loaded == 3


def test_pager_first_page_only_lists_one_page(tmp_path):
    driver = make_level(tmp_path, 30)
    pager = LevelPager(driver, "bucket", "runs/", page_size=10)
    first = pager.fetch_next()
    assert len(first.entries) == 10
    assert pager.has_more
    assert pager.objects == 10
