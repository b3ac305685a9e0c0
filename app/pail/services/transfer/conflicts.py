"""Whether an existing destination object already holds the source's bytes.

Identical needs proof, never size alone: the two stores' checksums judged by
:func:`pail.services.checksums.judge` (a shared checksum that matches, none contradicting
it; a plain MD5 ETag counts as an MD5; equal multipart ETags prove nothing), or, for a
local source, the file hashed to match what the destination's store vouches for (its
full-object checksum, else its plain MD5 ETag). Anything else is "not proven" (False): the
conflict policy decides.
"""

from __future__ import annotations

from pail.drivers.errors import StorageError
from pail.services.checksums import etag_as_md5, full_object, judge
from pail.services.download.verify import b64, new_hasher
from pail.services.transfer.model import Side


def proven_identical(
    source: Side,
    source_key: str,
    version_id: str | None,
    size: int,
    dest: Side,
    dest_key: str,
) -> bool:
    """True when ``dest_key`` at ``dest`` provably holds the ``size`` bytes of
    ``source_key`` at ``source`` (the listed sizes are already known equal; sizes that
    differ in the checksum answers are "not proven"). Errors of the checksum requests or
    the read count as "not proven"."""
    try:
        a = source.driver.object_checksums(source.bucket, source_key, version_id=version_id)
        b = dest.driver.object_checksums(dest.bucket, dest_key)
    except StorageError:
        return False
    verdict = judge(a, b)
    if verdict.state != "unproven" or source.provider != "local":
        return verdict.state == "identical"
    want = {alg.upper(): v for alg, v in b.checksums.items() if v and full_object(b, v)}
    md5 = etag_as_md5(b)
    if md5 is not None:
        want["MD5"] = md5
    for alg, value in want.items():
        try:
            hasher = new_hasher(alg)
        except ValueError:
            continue
        try:
            source.driver.stream_range(source.bucket, source_key, 0, size, hasher.update)
        except StorageError:
            return False
        return b64(hasher.digest()) == value
    return False
