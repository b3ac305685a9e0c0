"""Inventory configurations on S3, for :class:`pail.drivers.s3.S3Driver`.

ListBucketInventoryConfigurations (S3 API reference) answers up to 100 configurations a
page; ``IsTruncated`` with ``NextContinuationToken`` asks for the next page, passed back as
``ContinuationToken``. The driver wraps the calls in its error translation
(``S3Driver._call``).

moto (checked on 5.2.5) answers Put/Get/ListBucketInventoryConfigurations but never
pages, reports ``IncludedObjectVersions`` as ``All`` whatever was put, and garbles
``OptionalFields`` (List gives ``["Field"]``, Get of one field its letters). pail takes the
report's columns and versions from its manifest (``fileSchema``), never from the
configuration, so none of this changes what a report holds; a ``{"Field": [...]}`` shape is
flattened here in case a server sends it.
"""

from __future__ import annotations

from typing import Any

from pail.drivers.errors import BadResponse
from pail.drivers.inventory import InventoryConfiguration


def _plain(config: dict[str, Any]) -> InventoryConfiguration:
    fields = config.get("OptionalFields")
    if isinstance(fields, dict):  # moto's {"Field": [...]} or {"Field": "Size"}
        inner = fields.get("Field", [])
        config["OptionalFields"] = [inner] if isinstance(inner, str) else list(inner)
    return config


def list_configurations(client: Any, bucket: str) -> list[InventoryConfiguration]:
    """Every ``InventoryConfiguration`` of ``bucket``, following ``NextContinuationToken``.

    Raises:
        BadResponse: (code ``BrokenPaging``) a truncated page without a new token: the
            listing cannot go on, and a partial list is never returned as the whole.
            Whatever the client raises (the driver translates it).
    """
    out: list[InventoryConfiguration] = []
    params: dict[str, Any] = {"Bucket": bucket}
    while True:
        resp = client.list_bucket_inventory_configurations(**params)
        out.extend(_plain(dict(c)) for c in resp.get("InventoryConfigurationList") or [])
        if not resp.get("IsTruncated"):
            return out
        token = resp.get("NextContinuationToken")
        if not token or token == params.get("ContinuationToken"):
            raise BadResponse(
                "ListBucketInventoryConfigurations said the page is truncated but gave no "
                "new NextContinuationToken",
                operation="ListBucketInventoryConfigurations",
                provider="s3",
                bucket=bucket,
                code="BrokenPaging",
            )
        params["ContinuationToken"] = token
