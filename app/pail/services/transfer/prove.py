"""Proving a write: the source's bytes are what its store vouches for, the destination
holds what was sent, a server-side copy equals its source. Only checks a store vouches
for count; a check that cannot be made leaves the item unverified, never accepted on size.

Source (a remote object read by ranges), first that applies:

* a full-object CRC64NVME / CRC32C / CRC32 (S3 ``ChecksumType`` FULL_OBJECT, GCS CRC32C)
  against the CRC combined from the parts read;
* for an object read in one piece, any full-object checksum (SHA-256, SHA-1, GCS MD5);
* a plain MD5 ETag (S3 API reference, "Common Response Headers: ETag"; not SSE-KMS/SSE-C)
  against the MD5 of the bytes (a larger object's parts fed to one MD5 in order);
* a multipart ETag ``HEX-N`` when the parts read have the source's own part sizes.

Destination (S3 User Guide, "Checking object integrity"), in this order: a full-object
checksum the store reports (the write's reply, else ``object_checksums``) equal to ours for
the same algorithm; a plain MD5 ETag equal to our MD5 (one piece, not encrypted); a multipart
ETag equal to md5(part MD5s)-N; a local file read back.

Server-side copy: equal full-object checksums of the same algorithm (``copy-checksum``), or
equal ETags of the same kind (``copy-etag``): plain MD5 = plain MD5, an equal ``HEX-N``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pail.drivers.base import ObjectChecksums, StorageDriver, WrittenObject
from pail.services.download.verify import MISMATCH, UNVERIFIED, VERIFIED, Verdict, new_hasher
from pail.services.transfer.parts import COMBINABLE, WholeDigests

PLAIN_ETAG = re.compile(r"^[0-9a-fA-F]{32}$")
MULTI_ETAG = re.compile(r"^[0-9a-fA-F]{32}-\d+$")
#: Encryption whose ETags are not MD5s (S3 API reference, "Common Response Headers").
_OPAQUE_ETAG = ("aws:kms", "aws:kms:dsse")


def full_checksums(checksums: ObjectChecksums | WrittenObject) -> dict[str, str]:
    """The full-object checksums (composite values ``x-N`` left out)."""
    if (checksums.checksum_type or "").upper() == "COMPOSITE":
        return {}
    return {alg.upper(): v for alg, v in checksums.checksums.items() if v and "-" not in v}


def _version(written: WrittenObject) -> str | None:
    # "null" is the version id of an unversioned bucket; some stores refuse it in a HEAD.
    return written.version_id if written.version_id not in (None, "null") else None


def source_algorithms(facts: ObjectChecksums | None, *, one_piece: bool) -> list[str]:
    """Algorithms to hash a remote source's parts with so :func:`prove_source` can check
    what its store vouches for."""
    if facts is None:
        return []
    algs = [alg for alg in full_checksums(facts) if alg in COMBINABLE or one_piece]
    if one_piece and facts.etag and PLAIN_ETAG.match(facts.etag) and facts.etag_is_md5:
        algs.append("MD5")
    return algs


def prove_source(
    facts: ObjectChecksums, whole: WholeDigests, *, one_piece: bool, layout_matches: bool
) -> Verdict:
    """Whether the bytes read (``whole``: their parts' digests) are the source object's.

    Args:
        facts: what the source's store vouches for (``object_checksums``).
        one_piece: the object was read and hashed as one part.
        layout_matches: the parts have the source's own part sizes (multipart ETag).
    """
    for alg, value in full_checksums(facts).items():
        if alg not in COMBINABLE and not one_piece:
            continue
        ours = whole.whole_b64(alg)
        if ours is None:
            continue
        if ours == value:
            return Verdict(VERIFIED, alg.lower())
        return Verdict(MISMATCH, alg.lower(), f"source checksum mismatch ({alg})")
    etag = (facts.etag or "").lower()
    if etag and facts.etag_is_md5 and PLAIN_ETAG.match(etag):
        md5 = whole.whole("MD5")
        if md5 is not None:
            if md5.hex() == etag:
                return Verdict(VERIFIED, "md5")
            return Verdict(MISMATCH, "md5", "source checksum mismatch (MD5 vs ETag)")
    if etag and facts.etag_is_md5 and MULTI_ETAG.match(etag) and layout_matches:
        if whole.multipart_etag() == etag:
            return Verdict(VERIFIED, "multipart-md5")
        return Verdict(MISMATCH, "multipart-md5", "source checksum mismatch (multipart ETag)")
    return Verdict(UNVERIFIED, "", "the source's store vouches for nothing pail can check")


def _comparefull_checksums(
    reported: dict[str, str], whole: WholeDigests, algorithms: Sequence[str]
) -> Verdict | None:
    for alg in algorithms:
        value = reported.get(alg)
        ours = whole.whole_b64(alg)
        if value is None or ours is None:
            continue
        if value == ours:
            return Verdict(VERIFIED, alg.lower())
        return Verdict(MISMATCH, alg.lower(), f"checksum mismatch ({alg} of the written object)")
    return None


def prove_dest(
    driver: StorageDriver,
    bucket: str,
    key: str,
    written: WrittenObject,
    whole: WholeDigests,
    algorithms: Sequence[str],
) -> Verdict:
    """Whether the object now at ``bucket``/``key`` holds the bytes sent (``whole``: the
    parts' digests for ``algorithms``). Asks ``object_checksums`` when the write's reply
    carried no checksum of ours. A local folder is read back (``stream_range``) and hashed.

    Raises:
        StorageError: the checksum request or the read-back failed.
    """
    if driver.provider == "local":
        alg = next((a for a in algorithms if a in COMBINABLE), None)
        if alg is None:
            return Verdict(UNVERIFIED, "", "no CRC to read the file back with")
        hasher = new_hasher(alg)
        driver.stream_range(bucket, key, 0, written.size, hasher.update)
        from pail.services.download.verify import b64

        if b64(hasher.digest()) == whole.whole_b64(alg):
            return Verdict(VERIFIED, alg.lower())
        return Verdict(MISMATCH, alg.lower(), f"checksum mismatch ({alg} of the file read back)")
    verdict = _comparefull_checksums(full_checksums(written), whole, algorithms)
    if verdict is not None:
        return verdict
    facts = driver.object_checksums(bucket, key, version_id=_version(written))
    verdict = _comparefull_checksums(full_checksums(facts), whole, algorithms)
    if verdict is not None:
        return verdict
    etag = (facts.etag or written.etag or "").lower()
    encrypted = (written.encryption or "").lower() in _OPAQUE_ETAG
    if etag and PLAIN_ETAG.match(etag) and facts.etag_is_md5 and not encrypted:
        md5 = whole.whole("MD5")
        if md5 is not None:
            if md5.hex() == etag:
                return Verdict(VERIFIED, "md5")
            return Verdict(MISMATCH, "md5", "checksum mismatch (MD5 vs the written ETag)")
    if etag and MULTI_ETAG.match(etag) and facts.etag_is_md5 and not encrypted:
        if whole.multipart_etag() == etag:
            return Verdict(VERIFIED, "multipart-md5")
        return Verdict(MISMATCH, "multipart-md5", "checksum mismatch (multipart ETag)")
    return Verdict(UNVERIFIED, "", "the store reports no checksum of the written object")


def landed(
    driver: StorageDriver,
    bucket: str,
    key: str,
    size: int,
    whole: WholeDigests,
    algorithms: Sequence[str],
) -> WrittenObject | None:
    """The object at ``bucket``/``key`` when it provably holds the bytes of ``whole``
    (one ``object_checksums`` request: a HeadObject with ``ChecksumMode=ENABLED`` on S3),
    else ``None``.

    For a CompleteMultipartUpload whose first answer was lost: the store joined the parts,
    the client never heard it, and the retry found the upload gone (``NoSuchUpload``,
    404) or, create-only, the key taken (412). Proof (S3 User Guide, "Checking object
    integrity"): the same size and an equal full-object checksum of one of ``algorithms``
    (the combinable CRCs), else an MD5-derived multipart ETag equal to md5(part MD5s)-N
    of ours. A different checksum, a missing object or nothing comparable: ``None`` (the
    failure stands; never accepted on size alone).

    Raises:
        StorageError: the request failed (other than NotFound).
    """
    from pail.drivers.errors import NotFound

    try:
        facts = driver.object_checksums(bucket, key)
    except NotFound:
        return None
    if facts.size != size:
        return None
    found = WrittenObject(
        bucket=bucket,
        key=key,
        size=facts.size,
        etag=facts.etag,
        version_id=facts.version_id,
        checksums=dict(facts.checksums),
        checksum_type=facts.checksum_type,
    )
    combinable = [alg for alg in algorithms if alg in COMBINABLE]
    verdict = _comparefull_checksums(full_checksums(facts), whole, combinable)
    if verdict is not None:
        return found if verdict.status == VERIFIED else None
    etag = (facts.etag or "").lower()
    if facts.etag_is_md5 and MULTI_ETAG.match(etag) and whole.multipart_etag() == etag:
        return found
    return None


def prove_copy(
    source: ObjectChecksums,
    written: WrittenObject,
    driver: StorageDriver,
    bucket: str,
    key: str,
    *,
    reply_etag_is_md5: bool = False,
) -> Verdict:
    """Whether a server-side copy at ``bucket``/``key`` equals its source (``source``: the
    source's checksums before the copy). Asks ``object_checksums`` of the copy only when
    the reply proves nothing by itself: a comparable full-object checksum in the reply
    (CopyObjectResult), or, with ``reply_etag_is_md5`` (the copy was written without
    SSE-C and its reply names no KMS encryption: S3 API reference, "Common Response
    Headers: ETag"), a reply ETag equal to the source's MD5-derived ETag of the same kind.
    A reply ETag that differs is not trusted alone: the copy is then looked up.

    Raises:
        StorageError: the checksum request failed.
    """
    ours = full_checksums(source)

    def by_checksum(reported: dict[str, str]) -> Verdict | None:
        for alg, value in reported.items():
            if alg in ours:
                if ours[alg] == value:
                    return Verdict(VERIFIED, "copy-checksum")
                return Verdict(MISMATCH, "copy-checksum", f"copy checksum mismatch ({alg})")
        return None

    verdict = by_checksum(full_checksums(written))
    if verdict is not None:
        return verdict
    a, reply = (source.etag or "").lower(), (written.etag or "").lower()
    encrypted = (written.encryption or "").lower() in _OPAQUE_ETAG
    md5_kind = bool(PLAIN_ETAG.match(a) or MULTI_ETAG.match(a))
    if reply_etag_is_md5 and not encrypted and source.etag_is_md5 and md5_kind and a == reply:
        return Verdict(VERIFIED, "copy-etag")  # what a HEAD of the copy would say
    facts = driver.object_checksums(bucket, key, version_id=_version(written))
    verdict = by_checksum(full_checksums(facts))
    if verdict is not None:
        return verdict
    a, b = (source.etag or "").lower(), (facts.etag or written.etag or "").lower()
    if a and b and source.etag_is_md5 and facts.etag_is_md5:
        if PLAIN_ETAG.match(a) and PLAIN_ETAG.match(b):
            if a == b:
                return Verdict(VERIFIED, "copy-etag")
            return Verdict(MISMATCH, "copy-etag", "copy ETag differs from the source's MD5")
        if MULTI_ETAG.match(a) and a == b:
            return Verdict(VERIFIED, "copy-etag")
    return Verdict(UNVERIFIED, "", "no checksum or ETag of the copy compares with the source's")


def copy_algorithm(source: ObjectChecksums | None) -> str | None:
    """The checksum algorithm to ask a server-side copy for: the source's full-object one
    (so the two compare), else ``None``."""
    if source is None:
        return None
    for alg in full_checksums(source):
        if alg in ("CRC64NVME", "SHA256", "SHA1", "CRC32C", "CRC32"):
            return alg
    return None
