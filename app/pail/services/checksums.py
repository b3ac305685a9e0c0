"""Identical needs proof: when what two stores vouch for proves two objects hold the same bytes.

One home for the rule that ``pail diff`` (:mod:`pail.services.runs.diff`), ``pail check``
(:mod:`pail.services.compare`) and the transfer engine's "is the existing destination
identical" check (:mod:`pail.services.transfer.conflicts`) apply. Never size alone:

* **Store checksums** (S3 additional checksums, S3 User Guide "Checking object integrity";
  GCS ``crc32c`` / ``md5Hash``, objects resource; a local folder's SHA-256): equal values of
  one algorithm prove identity. A ``COMPOSITE`` value (``value-N``: the checksum of the N
  parts' checksums) proves identity when equal, but a different one proves no difference
  (it depends on the part sizes). Every algorithm both sides give must agree: one
  full-object value that differs makes the pair ``differ``, whatever else matched.
* **A plain MD5 ETag** (32 hex digits) is the MD5 of the bytes (S3 API reference, "Common
  Response Headers: ETag"), except for SSE-KMS / SSE-C objects: the driver says which
  (:attr:`~pail.drivers.base.ObjectChecksums.etag_is_md5`). Such an ETag counts as an
  ``MD5`` checksum (:func:`etag_as_md5`), so an S3 object meets a GCS ``md5Hash`` too.
* **A multipart ETag** (``HEX-N``) proves nothing by equality: AWS documents that it "is not
  an MD5 digest" and not how it is made, and other stores make their own. It proves bytes
  only when recomputed from them with the real part sizes (:mod:`pail.services.download.verify`).

Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Literal

from pail.drivers.base import ObjectChecksums

#: A plain (single-part) ETag: the MD5 of the bytes as 32 hex digits (S3 API reference,
#: "Common Response Headers: ETag"). Anchored: use with ``match`` or ``fullmatch``.
MD5_ETAG = re.compile(r"\A[0-9a-fA-F]{32}\Z")
#: A multipart-upload ETag ``HEX-N``: groups 1 = the 32 hex digits, 2 = the part count N.
MULTIPART_ETAG = re.compile(r"\A([0-9a-fA-F]{32})-(\d+)\Z")

#: Store checksums (``ObjectChecksums.checksums`` keys), strongest first: the first one
#: both sides give names the proof.
ALGORITHMS = ("SHA256", "SHA1", "CRC64NVME", "CRC32C", "CRC32", "MD5")

#: What a pair's checksums prove.
Proof = Literal["identical", "differ", "unproven"]


@dataclass(frozen=True, slots=True)
class ProofVerdict:
    """What two objects' checksums prove about their bytes.

    Attributes:
        state: ``"identical"`` (a shared checksum matches and none contradicts it),
            ``"differ"`` (sizes differ, or a shared full-object checksum differs) or
            ``"unproven"`` (nothing both sides give settles it).
        method: the algorithm that decided (``"SHA256"``, ``"CRC64NVME"``, ``"MD5"``...;
            ``ObjectChecksums.checksums`` names), ``None`` for sizes and ``unproven``.
        from_etag: the ``MD5`` compared was read from a plain MD5 ETag on either side.
        value_a / value_b: the values compared (base64; an ETag's MD5 as base64 too).
        note: for ``unproven``: ``"checksum not comparable (a: SHA256; b: multipart
            ETag)"``; for sizes: ``"size 10 vs 12"``; else ``None``. Plain text.
    """

    state: Proof
    method: str | None = None
    from_etag: bool = False
    value_a: str | None = None
    value_b: str | None = None
    note: str | None = None


def _etag(facts: ObjectChecksums) -> str:
    return (facts.etag or "").strip('"').lower()


def etag_as_md5(facts: ObjectChecksums) -> str | None:
    """The MD5 (base64, as stores give checksums) a plain MD5 ETag stands for, or ``None``
    when the ETag is not one: absent, multipart ``HEX-N``, or not an MD5 because the object
    is encrypted with SSE-KMS / SSE-C (``etag_is_md5`` false; S3 API reference, "Common
    Response Headers: ETag")."""
    etag = _etag(facts)
    if not facts.etag_is_md5 or not MD5_ETAG.match(etag):
        return None
    return base64.b64encode(bytes.fromhex(etag)).decode()


def listed_md5(provider: str, etag: str | None) -> str | None:
    """A listed ETag that is a plain MD5 (lower-case hex), for settling a pair without a
    request: S3 only (a GCS or local ETag is no MD5), never a multipart ``HEX-N`` one.
    Listings do not say whether an object is SSE-KMS / SSE-C encrypted, so only equal
    values may be trusted; unequal ones need the store's checksums (:func:`judge`)."""
    value = (etag or "").strip('"').lower()
    return value if provider == "s3" and MD5_ETAG.match(value) else None


def full_object(facts: ObjectChecksums, value: str) -> bool:
    """Whether ``value`` (one of ``facts.checksums``) covers the whole object, so a
    different value proves different bytes: not ``ChecksumType`` ``COMPOSITE``, no ``-N``
    suffix, and not a value of unstated type on a multipart object (moto gives composite
    values without either; S3 User Guide, "Checking object integrity")."""
    if facts.checksum_type == "COMPOSITE" or re.search(r"-\d+\Z", value):
        return False
    return not (facts.checksum_type is None and MULTIPART_ETAG.match(_etag(facts)))


def _sums(facts: ObjectChecksums) -> tuple[dict[str, str], bool]:
    """Upper-case algorithm -> non-empty value, with the ETag's MD5 when the store gives no
    MD5 of its own; and whether that MD5 came from the ETag."""
    out = {alg.upper(): v for alg, v in facts.checksums.items() if v}
    md5 = etag_as_md5(facts)
    if md5 is not None and "MD5" not in out:
        out["MD5"] = md5
        return out, True
    return out, False


def judge(a: ObjectChecksums, b: ObjectChecksums) -> ProofVerdict:
    """Whether the objects ``a`` and ``b`` describe (from ``object_checksums``) hold the
    same bytes, from what their stores vouch for (the module doc's rules).

    Every algorithm both give is looked at, strongest first (:data:`ALGORITHMS`): a
    full-object value that differs makes the pair ``differ`` even when another matched (a
    store contradicting itself is never "identical"); else the strongest equal value proves
    ``identical``; else ``unproven``. Sizes that differ are ``differ`` with no method.
    """
    if a.size != b.size:
        return ProofVerdict("differ", note=f"size {a.size:,} vs {b.size:,}")
    sa, etag_a = _sums(a)
    sb, etag_b = _sums(b)
    proof: ProofVerdict | None = None
    for alg in ALGORITHMS:
        va, vb = sa.get(alg), sb.get(alg)
        if va is None or vb is None:
            continue
        from_etag = alg == "MD5" and (etag_a or etag_b)
        if va != vb and full_object(a, va) and full_object(b, vb):
            return ProofVerdict("differ", alg, from_etag, va, vb)
        if va == vb and proof is None:
            proof = ProofVerdict("identical", alg, from_etag, va, vb)
    if proof is not None:
        return proof
    return ProofVerdict("unproven", note=f"checksum not comparable ({_offers(a, b)})")


def _offers(a: ObjectChecksums, b: ObjectChecksums) -> str:
    def one(facts: ObjectChecksums) -> str:
        names = [alg for alg in ALGORITHMS if facts.checksums.get(alg)]
        if facts.etag_is_md5 and facts.etag:
            names.append("multipart ETag" if "-" in facts.etag else "ETag (MD5)")
        return ", ".join(names) or "none"

    return f"a: {one(a)}; b: {one(b)}"


__all__ = [
    "ALGORITHMS",
    "MD5_ETAG",
    "MULTIPART_ETAG",
    "Proof",
    "ProofVerdict",
    "etag_as_md5",
    "full_object",
    "judge",
    "listed_md5",
]
