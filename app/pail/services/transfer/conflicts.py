"""Whether an existing destination object already holds the source's bytes.

Identical needs proof, never size alone: a full-object checksum both stores vouch for with
the same algorithm, equal MD5-derived ETags (plain or multipart, neither encrypted), or,
for a local source, the file hashed to match what the destination's store vouches for
(its full-object checksum, else its plain MD5 ETag). Anything else is "not proven"
(False): the conflict policy decides.
"""

from __future__ import annotations

from pail.drivers.errors import StorageError
from pail.services.download.verify import b64, new_hasher
from pail.services.transfer.model import Side
from pail.services.transfer.prove import MULTI_ETAG, PLAIN_ETAG, full_checksums


def proven_identical(
    source: Side,
    source_key: str,
    version_id: str | None,
    size: int,
    dest: Side,
    dest_key: str,
) -> bool:
    """True when ``dest_key`` at ``dest`` provably holds the ``size`` bytes of
    ``source_key`` at ``source`` (the sizes are already known equal). Errors of the
    checksum requests or the read count as "not proven"."""
    try:
        a = source.driver.object_checksums(source.bucket, source_key, version_id=version_id)
        b = dest.driver.object_checksums(dest.bucket, dest_key)
    except StorageError:
        return False
    fa, fb = full_checksums(a), full_checksums(b)
    for alg in sorted(fa.keys() & fb.keys()):
        return fa[alg] == fb[alg]
    ea, eb = (a.etag or "").lower(), (b.etag or "").lower()
    kinds = PLAIN_ETAG.match(ea) or MULTI_ETAG.match(ea)
    if ea and a.etag_is_md5 and b.etag_is_md5 and kinds and ea == eb:
        return True
    if source.provider != "local":
        return False
    want = dict(fb)
    if eb and b.etag_is_md5 and PLAIN_ETAG.match(eb):
        want["MD5"] = b64(bytes.fromhex(eb))
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
