"""Turn a stale filter into the store's own lifecycle rules, and apply them safely.

For buckets too big to clean from one machine, the storage service can do the deleting:

* S3: a lifecycle configuration rule (S3 API reference, PutBucketLifecycleConfiguration;
  S3 User Guide, "Lifecycle configuration elements"): ``ID``, ``Filter`` (``Prefix``, or
  ``And`` with ``Prefix`` / ``ObjectSizeGreaterThan`` / ``ObjectSizeLessThan``),
  ``Status: Enabled``, ``Expiration.Days`` (current versions; on a versioned bucket this
  adds a delete marker) and ``NoncurrentVersionExpiration`` (``NoncurrentDays``,
  ``NewerNoncurrentVersions``).
* GCS: Object Lifecycle Management rules (https://cloud.google.com/storage/docs/lifecycle):
  ``action: {type: Delete}`` with ``condition`` ``age`` + ``isLive: true`` for live objects,
  ``daysSinceNoncurrentTime`` (+ ``numNewerVersions``) + ``isLive: false`` for noncurrent
  ones, ``matchesPrefix`` / ``matchesSuffix`` to narrow.

A rule may only ever select *fewer* objects than the filter, never more: criteria the
service cannot express (exclude globs, regexes, keep-the-newest-N-runs, size on GCS) make
:func:`build_rules` refuse with :class:`NotExpressible` rather than export a broader rule.
Ages are whole days, rounded up.

:func:`merge` never replaces an existing rule silently: a new rule with the same identity
(S3 ``ID``; for GCS the action and non-age conditions) and different content is a conflict
unless ``replace=True``; rules whose prefixes overlap are reported as warnings.

:func:`apply` reads the configuration back after writing it and compares: a store that
answers success but keeps other rules (fake-gcs-server drops ``lifecycle`` on
``storage.buckets.patch``) or loses the bucket's versioning on the way (the same server
resets it) raises :class:`LifecycleNotStored` naming what differs; success is never
reported unchecked.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pail.core.units import plural
from pail.drivers.base import StorageDriver
from pail.drivers.errors import StorageError
from pail.drivers.versions import LifecycleRule, Versioned, lifecycle_of
from pail.services.delete.filters import FilterError, StaleFilters

__all__ = [
    "ApplyResult",
    "Change",
    "FilterError",
    "LifecycleConflict",
    "LifecycleNotStored",
    "MergeResult",
    "NotExpressible",
    "RuleExport",
    "apply",
    "build_rules",
    "current_rules",
    "export_json",
    "merge",
    "rule_identity",
    "rule_prefix",
    "rule_summary",
    "stored_differences",
]

_DAY = 86400
# GCS condition fields that are thresholds: two rules differing only in these collide.
_GCS_THRESHOLDS = {
    "age",
    "daysSinceNoncurrentTime",
    "numNewerVersions",
    "daysSinceCustomTime",
    "createdBefore",
    "noncurrentTimeBefore",
    "customTimeBefore",
}
_LITERAL_SUFFIX_GLOB = re.compile(r"^\*([^*?\[\]]+)$")


class NotExpressible(ValueError):
    """The filter cannot be written as a lifecycle rule; ``reasons`` says why (one plain
    line each). Exporting a broader rule instead would delete more than was chosen."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class LifecycleConflict(ValueError):
    """New rules would replace existing ones with different content; ``ids`` names them.
    Pass ``replace=True`` to replace them."""

    def __init__(self, ids: list[str]) -> None:
        names = ", ".join(repr(i) for i in ids)
        super().__init__(
            f"the bucket already has a different lifecycle rule {names}; "
            "replace it explicitly (--replace) or change the filter"
        )
        self.ids = ids


class LifecycleNotStored(StorageError):
    """The store answered the lifecycle write with success but reading the bucket back
    shows otherwise. ``differences`` are plain lines (a rule not stored, stored with other
    fields, an extra rule, versioning lost); the message joins them. ``code`` is
    ``LifecycleNotStored``, ``operation`` the read-back request (S3
    GetBucketLifecycleConfiguration, GCS ``storage.buckets.get``)."""

    def __init__(self, differences: list[str], *, provider: str, bucket: str,
                 endpoint: str | None) -> None:  # fmt: skip
        operation = (
            "storage.buckets.get" if provider == "gcs" else "GetBucketLifecycleConfiguration"
        )
        super().__init__(
            "the store answered the lifecycle write with success, but reading the bucket "
            "back shows otherwise: " + "; ".join(differences),
            operation=operation,
            provider=provider,
            bucket=bucket,
            code="LifecycleNotStored",
            endpoint=endpoint,
        )
        self.differences = differences


@dataclass(frozen=True)
class RuleExport:
    """Rules built from a filter: ``provider`` (``"s3"``/``"gcs"``), ``rules`` in that
    provider's JSON shape, and ``notes`` (plain lines: rounding, versioned-bucket effects)."""

    provider: str
    rules: list[LifecycleRule]
    notes: list[str] = field(default_factory=list)


def _days(seconds: float, what: str, notes: list[str]) -> int:
    days = max(1, math.ceil(seconds / _DAY))
    if seconds != days * _DAY:
        notes.append(f"{what} rounded up to {plural(days, 'day')}: lifecycle ages are whole days")
    return days


def build_rules(
    provider: str,
    prefix: str = "",
    filters: StaleFilters | None = None,
    *,
    noncurrent_days: int | None = None,
    keep_noncurrent: int | None = None,
) -> RuleExport:
    """Lifecycle rules that delete what ``filters`` selects under ``prefix``.

    Args:
        provider: ``"s3"`` or ``"gcs"``.
        prefix: key prefix the rule is limited to (``""`` = whole bucket).
        filters: age (``older_than``) and, on S3, size criteria; include globs of the form
            ``*SUFFIX`` on GCS (``matchesSuffix``).
        noncurrent_days: also delete noncurrent versions this many days after they became
            noncurrent (S3 NoncurrentVersionExpiration, GCS daysSinceNoncurrentTime).
        keep_noncurrent: keep this many newest noncurrent versions regardless (S3
            NewerNoncurrentVersions, GCS numNewerVersions); needs ``noncurrent_days``.

    Raises:
        NotExpressible: a criterion the service cannot express, or nothing to expire.
    """
    filters = filters or StaleFilters()
    notes: list[str] = []
    reasons = _unexpressible(provider, filters)
    if keep_noncurrent is not None and noncurrent_days is None:
        reasons.append("keeping newer noncurrent versions needs --noncurrent-days")
    if filters.older_than is None and noncurrent_days is None:
        reasons.append(
            "a lifecycle rule needs an age: older than (--older-than) or noncurrent days "
            "(--noncurrent-days)"
        )
    if noncurrent_days is not None and noncurrent_days < 1:
        reasons.append(f"--noncurrent-days must be 1 or more, not {noncurrent_days}")
    if reasons:
        raise NotExpressible(reasons)
    age = None
    if filters.older_than is not None:
        age = _days(filters.older_than.total_seconds(), "--older-than", notes)
    if provider == "gcs":
        rules = _gcs_rules(prefix, filters, age, noncurrent_days, keep_noncurrent)
    else:
        rules = [_s3_rule(prefix, filters, age, noncurrent_days, keep_noncurrent)]
    if age is not None and noncurrent_days is None:
        notes.append(
            "on a versioned bucket expiring a current object only makes it noncurrent "
            "(S3 adds a delete marker): add --noncurrent-days to remove the data as well"
        )
    return RuleExport(provider, rules, notes)


def _unexpressible(provider: str, filters: StaleFilters) -> list[str]:
    reasons = []
    if filters.exclude:
        reasons.append("exclude globs cannot be expressed in a lifecycle rule")
    if filters.regex is not None:
        reasons.append("regular expressions cannot be expressed in a lifecycle rule")
    if filters.keep_last is not None:
        reasons.append(
            "keep-the-newest-N-runs cannot be expressed in a lifecycle rule "
            "(only noncurrent versions can be kept by count)"
        )
    if filters.keep_best is not None or filters.keep_tags or filters.keep_names:
        reasons.append(
            "keeping the best N runs by a metric, or runs tagged or named, cannot be "
            "expressed in a lifecycle rule"
        )
    if filters.include:
        if provider != "gcs":
            reasons.append("include globs cannot be expressed in an S3 lifecycle rule")
        elif not all(_LITERAL_SUFFIX_GLOB.match(g) for g in filters.include):
            reasons.append("on GCS only include globs of the form *SUFFIX can be expressed")
    if provider == "gcs" and (filters.larger_than is not None or filters.smaller_than is not None):
        reasons.append("GCS lifecycle rules have no size condition")
    return reasons


def _slug(prefix: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", prefix).strip("-") or "all"


def _s3_rule(
    prefix: str,
    filters: StaleFilters,
    age: int | None,
    noncurrent_days: int | None,
    keep_noncurrent: int | None,
) -> LifecycleRule:
    parts = [f"pail-{_slug(prefix)}"]
    conditions: dict[str, Any] = {}
    if filters.larger_than is not None:
        conditions["ObjectSizeGreaterThan"] = filters.larger_than
        parts.append(f"gt{filters.larger_than}")
    if filters.smaller_than is not None:
        conditions["ObjectSizeLessThan"] = filters.smaller_than
        parts.append(f"lt{filters.smaller_than}")
    if not conditions:
        flt: dict[str, Any] = {"Prefix": prefix}
    elif prefix or len(conditions) > 1:  # And takes two or more predicates
        flt = {"And": {**({"Prefix": prefix} if prefix else {}), **conditions}}
    else:
        flt = dict(conditions)
    rule: dict[str, Any] = {"ID": "", "Filter": flt, "Status": "Enabled"}
    if age is not None:
        rule["Expiration"] = {"Days": age}
        parts.append(f"{age}d")
    if noncurrent_days is not None:
        expiry: dict[str, Any] = {"NoncurrentDays": noncurrent_days}
        parts.append(f"nc{noncurrent_days}d")
        if keep_noncurrent is not None:
            expiry["NewerNoncurrentVersions"] = keep_noncurrent
            parts.append(f"keep{keep_noncurrent}")
        rule["NoncurrentVersionExpiration"] = expiry
    rule_id = "-".join(parts)
    if len(rule_id) > 255:  # S3's limit on ID
        digest = hashlib.sha256(rule_id.encode()).hexdigest()[:12]
        rule_id = f"{rule_id[:240]}-{digest}"
    rule["ID"] = rule_id
    return rule


def _gcs_rules(
    prefix: str,
    filters: StaleFilters,
    age: int | None,
    noncurrent_days: int | None,
    keep_noncurrent: int | None,
) -> list[LifecycleRule]:
    narrow: dict[str, Any] = {}
    if prefix:
        narrow["matchesPrefix"] = [prefix]
    if filters.include:
        narrow["matchesSuffix"] = [g[1:] for g in filters.include]
    rules: list[LifecycleRule] = []
    if age is not None:
        rules.append(
            {"action": {"type": "Delete"}, "condition": {"age": age, "isLive": True, **narrow}}
        )
    if noncurrent_days is not None:
        condition: dict[str, Any] = {"daysSinceNoncurrentTime": noncurrent_days, "isLive": False}
        if keep_noncurrent is not None:
            condition["numNewerVersions"] = keep_noncurrent
        rules.append({"action": {"type": "Delete"}, "condition": {**condition, **narrow}})
    return rules


def export_json(provider: str, rules: list[LifecycleRule]) -> str:
    """``rules`` as the JSON document the provider's own tools take: S3
    ``{"Rules": [...]}`` (``aws s3api put-bucket-lifecycle-configuration
    --lifecycle-configuration``), GCS ``{"lifecycle": {"rule": [...]}}`` (the bucket
    resource's shape, ``gcloud storage buckets update --lifecycle-file``)."""
    doc: dict[str, Any] = {"lifecycle": {"rule": rules}} if provider == "gcs" else {"Rules": rules}
    return json.dumps(doc, indent=2, default=str)


# --- identity, prefixes, merging ---------------------------------------------------------


def rule_identity(rule: LifecycleRule) -> str:
    """What makes two rules "the same rule": S3's ``ID``; for GCS (rules have no id) the
    action and the conditions other than ages/counts, as canonical JSON."""
    if "action" in rule:
        condition = {
            k: v for k, v in (rule.get("condition") or {}).items() if k not in _GCS_THRESHOLDS
        }
        return json.dumps({"action": rule["action"], "condition": condition}, sort_keys=True)
    return str(rule.get("ID") or "")


def rule_prefix(rule: LifecycleRule) -> list[str]:
    """The key prefixes a rule applies to (``[""]`` = the whole bucket)."""
    if "action" in rule:
        return list((rule.get("condition") or {}).get("matchesPrefix") or [""])
    flt = rule.get("Filter")
    if flt is None:
        return [str(rule.get("Prefix") or "")]  # the legacy top-level Prefix
    prefix = flt.get("Prefix", (flt.get("And") or {}).get("Prefix", ""))
    return [str(prefix or "")]


def _count(value: object, noun: str) -> str:
    """A count from a rule (``plural`` for a whole number; a value of another type, from
    a hand-written rule, as it is with the plural noun)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return plural(value, noun)
    return f"{value} {noun}s"


def rule_summary(rule: LifecycleRule) -> str:
    """One plain line describing a rule, e.g. ``pail-runs-30d: prefix 'runs/', expire
    after 30 days, noncurrent after 7 days``."""
    if "action" in rule:
        cond = rule.get("condition") or {}
        bits = [f"{rule.get('action', {}).get('type', '?')}"]
        bits += [f"{k}={json.dumps(v)}" for k, v in sorted(cond.items())]
        return " ".join(bits)
    bits = [f"prefix {rule_prefix(rule)[0]!r}"]
    flt = rule.get("Filter") or {}
    sizes = {**flt, **(flt.get("And") or {})}
    if "ObjectSizeGreaterThan" in sizes:
        bits.append(f"larger than {_count(sizes['ObjectSizeGreaterThan'], 'byte')}")
    if "ObjectSizeLessThan" in sizes:
        bits.append(f"smaller than {_count(sizes['ObjectSizeLessThan'], 'byte')}")
    if "Days" in (rule.get("Expiration") or {}):
        bits.append(f"expire after {_count(rule['Expiration']['Days'], 'day')}")
    nc = rule.get("NoncurrentVersionExpiration") or {}
    if "NoncurrentDays" in nc:
        keep = nc.get("NewerNoncurrentVersions")
        bits.append(
            f"noncurrent after {_count(nc['NoncurrentDays'], 'day')}"
            + (f" (keeping {keep} newer)" if keep is not None else "")
        )
    status = rule.get("Status", "Enabled")
    if status != "Enabled":
        bits.append(str(status).lower())
    return f"{rule.get('ID') or '(no id)'}: " + ", ".join(bits)


@dataclass(frozen=True)
class Change:
    """What merging did with one rule: ``kind`` (``"added"``, ``"replaced"``,
    ``"unchanged"``), the rule's ``identity`` and the ``rule``; ``old`` for replacements."""

    kind: Literal["added", "replaced", "unchanged"]
    identity: str
    rule: LifecycleRule
    old: LifecycleRule | None = None


@dataclass(frozen=True)
class MergeResult:
    """The merged rule list (existing rules first, in their order), what changed, and
    warnings (plain lines) about overlapping prefixes."""

    rules: list[LifecycleRule]
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when writing ``rules`` would change the bucket."""
        return any(c.kind != "unchanged" for c in self.changes)


def _same(a: LifecycleRule, b: LifecycleRule) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _overlap(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def merge(
    existing: list[LifecycleRule], new: list[LifecycleRule], *, replace: bool = False
) -> MergeResult:
    """Existing rules plus ``new`` ones; nothing existing is dropped or changed silently.

    A new rule identical to an existing one is ``unchanged``; one with the identity of a
    different existing rule replaces it in place only with ``replace=True``.

    Raises:
        LifecycleConflict: same identity, different content, and ``replace`` is False.
    """
    merged = [dict(r) for r in existing]
    index = {rule_identity(r): i for i, r in enumerate(merged)}
    conflicts = [
        rule_identity(r)
        for r in new
        if rule_identity(r) in index and not _same(merged[index[rule_identity(r)]], r)
    ]
    if conflicts and not replace:
        raise LifecycleConflict(conflicts)
    changes: list[Change] = []
    warnings: list[str] = []
    for rule in new:
        ident = rule_identity(rule)
        if ident in index:
            old = merged[index[ident]]
            kind: Literal["added", "replaced", "unchanged"]
            kind = "unchanged" if _same(old, rule) else "replaced"
            merged[index[ident]] = dict(rule)
            changes.append(Change(kind, ident, rule, None if kind == "unchanged" else old))
            continue
        for other in existing:
            pairs = [(p, q) for p in rule_prefix(rule) for q in rule_prefix(other)]
            if any(_overlap(p, q) for p, q in pairs):
                warnings.append(
                    f"new rule [{rule_summary(rule)}] overlaps existing rule "
                    f"[{rule_summary(other)}]: both apply, and the shortest age wins"
                )
        index[ident] = len(merged)
        merged.append(dict(rule))
        changes.append(Change("added", ident, rule))
    return MergeResult(merged, changes, warnings)


@dataclass(frozen=True)
class ApplyResult:
    """Outcome of :func:`apply`: the rules ``before``, the :class:`MergeResult` written
    (``merge.rules`` is what the bucket has now) and whether anything was ``written``."""

    before: list[LifecycleRule]
    merge: MergeResult
    written: bool


def current_rules(driver: StorageDriver, bucket: str) -> list[LifecycleRule]:
    """The bucket's lifecycle rules in the provider's shape, ``[]`` when it has none (S3
    GetBucketLifecycleConfiguration, GCS ``storage.buckets.get``).

    Raises:
        StorageError: reading failed (AccessDenied without s3:GetLifecycleConfiguration /
            storage.buckets.get, NotSupported on a local folder).
    """
    operation = "GetBucketLifecycleConfiguration"
    return lifecycle_of(driver, operation, bucket).get_lifecycle(bucket)


def apply(
    driver: StorageDriver, bucket: str, rules: list[LifecycleRule], *, replace: bool = False
) -> ApplyResult:
    """Read the bucket's rules, merge ``rules`` in (:func:`merge`), write the result when
    it differs (S3 PutBucketLifecycleConfiguration, GCS ``storage.buckets.patch``), then
    read the rules (and the versioning status, when it could be read before) back and
    compare (:func:`stored_differences`).

    Raises:
        LifecycleConflict: see :func:`merge` (nothing is written).
        LifecycleNotStored: the write answered success but the bucket does not hold the
            merged rules, or its versioning changed.
        StorageError: reading or writing failed (AccessDenied without the lifecycle
            permissions, NotSupported on a local folder).
    """
    store = lifecycle_of(driver, "GetBucketLifecycleConfiguration", bucket)
    before = store.get_lifecycle(bucket)
    result = merge(before, rules, replace=replace)
    if result.changed:
        versioning = _versioning(driver, bucket)
        store.put_lifecycle(bucket, result.rules)
        differences = stored_differences(result.rules, store.get_lifecycle(bucket))
        if versioning is not None:
            now = _versioning(driver, bucket)
            if now != versioning:
                differences.append(
                    f"the bucket's versioning was {versioning}, it is now "
                    f"{now or 'off'} (the store reset it while writing the rules)"
                )
        if differences:
            raise LifecycleNotStored(
                differences, provider=driver.provider, bucket=bucket, endpoint=driver.endpoint
            )
    return ApplyResult(before, result, result.changed)


def _versioning(driver: StorageDriver, bucket: str) -> str | None:
    """The bucket's versioning status (``"Enabled"``, ``"Suspended"``), ``"off"`` when
    never enabled, ``None`` when it cannot be read (no permission, no versions)."""
    if not isinstance(driver, Versioned):
        return None
    try:
        return driver.versioning_status(bucket) or "off"
    except StorageError:
        return None


def _contains(stored: Any, written: Any) -> bool:
    """Whether ``stored`` holds every field of ``written`` with the same value (a store
    may add defaults, e.g. an empty ``Filter``; it must not drop or change a field).
    Numbers compare by value (``30`` and ``"30"`` alike: GCS's JSON API quotes some)."""
    if isinstance(written, dict):
        return isinstance(stored, dict) and all(
            k in stored and _contains(stored[k], v) for k, v in written.items()
        )
    if isinstance(written, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(written)
            and all(_contains(a, b) for a, b in zip(stored, written, strict=True))
        )
    if isinstance(written, bool) or isinstance(stored, bool):
        return stored == written
    if isinstance(written, (int, float)) and isinstance(stored, (int, float, str)):
        try:
            return float(stored) == float(written)
        except ValueError:
            return False
    return bool(stored == written)


def stored_differences(written: list[LifecycleRule], stored: list[LifecycleRule]) -> list[str]:
    """Plain lines saying how the rules read back (``stored``) differ from the rules
    ``written``; ``[]`` when every written rule is stored (fields a store adds are
    allowed) and no other rule is."""
    differences: list[str] = []
    by_identity = {rule_identity(r): r for r in stored}
    for rule in written:
        found = by_identity.pop(rule_identity(rule), None)
        if found is None:
            differences.append(f"rule [{rule_summary(rule)}] was not stored")
        elif not _contains(found, rule):
            differences.append(f"rule [{rule_summary(rule)}] was stored as [{rule_summary(found)}]")
    differences.extend(f"the bucket has an unexpected rule [{rule_summary(r)}]"
                       for r in by_identity.values())  # fmt: skip
    return differences
