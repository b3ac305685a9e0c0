"""Single S3 calls used as permission probes, and STS GetCallerIdentity, for the S3 driver.

Each probe is the smallest request that exercises one IAM action (Amazon S3 User Guide,
"Required permissions for Amazon S3 API operations"; Service Authorization Reference,
"Actions defined by Amazon S3"):

==================================  ===============================  =====================
operation                           request                          IAM action
==================================  ===============================  =====================
ListBuckets                         ListBuckets                      s3:ListAllMyBuckets
GetBucketLocation                   GetBucketLocation                s3:GetBucketLocation
ListObjectsV2                       ``MaxKeys=1``, ``Prefix``        s3:ListBucket
HeadObject                          HeadObject on a sample key       s3:GetObject
GetObject                           ``Range: bytes=0-0``             s3:GetObject
PutObject                           a tiny probe object              s3:PutObject
DeleteObject                        the probe object                 s3:DeleteObject
GetBucketVersioning                 GetBucketVersioning              s3:GetBucketVersioning
ListObjectVersions                  ``MaxKeys=1``, ``Prefix``        s3:ListBucketVersions
GetBucketLifecycleConfiguration     GetBucketLifecycleConfiguration  s3:GetLifecycleConfiguration
==================================  ===============================  =====================

Answers that prove the permission although the call "failed" count as allowed: 416
InvalidRange on a 0-byte object (GetObject), 404 NoSuchLifecycleConfiguration (no rules).

Errors are translated by the driver (:mod:`pail.drivers.s3.errors`). Only PutObject and
DeleteObject change anything, and only when the caller asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pail.drivers.errors import InvalidRequest, NoCredentials, NotFound
from pail.drivers.identity import Identity, identity_from_arn

if TYPE_CHECKING:
    from pail.drivers.s3 import S3Driver

#: Body of a write probe: says what it is to whoever finds one left behind.
PROBE_BODY = b"pail access check probe object; safe to delete\n"


def _list_buckets(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    return {"count": len(client.list_buckets().get("Buckets", []))}


def _location(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    region = "eu-west-1" if location == "EU" else (location or "us-east-1")
    return {"region": region, "client_region": client.meta.region_name}


def _list(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    resp = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    contents = resp.get("Contents") or []
    return {"key": contents[0]["Key"] if contents else None}


def _head(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    resp = client.head_object(Bucket=bucket, Key=key)
    return {"size": resp.get("ContentLength"), "encryption": resp.get("ServerSideEncryption")}


def _get(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    resp = client.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")
    resp["Body"].close()
    return {"bytes": resp.get("ContentLength", 0)}


def _put(client: Any, bucket: str, key: str, *, write_args: dict, **_: Any) -> dict[str, Any]:
    resp = client.put_object(
        Bucket=bucket, Key=key, Body=PROBE_BODY, ContentType="text/plain", **write_args
    )
    return {"version_id": resp.get("VersionId")}


def _delete(client: Any, bucket: str, key: str, *, version_id: str | None, **_: Any) -> dict:
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    resp = client.delete_object(**params)
    return {"version_id": resp.get("VersionId"), "delete_marker": bool(resp.get("DeleteMarker"))}


def _versioning(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    resp = client.get_bucket_versioning(Bucket=bucket)
    return {"status": resp.get("Status") or "", "mfa_delete": resp.get("MFADelete") or ""}


def _versions(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    resp = client.list_object_versions(Bucket=bucket, Prefix=key, MaxKeys=1)
    return {"count": len(resp.get("Versions") or []) + len(resp.get("DeleteMarkers") or [])}


def _lifecycle(client: Any, bucket: str, key: str, **_: Any) -> dict[str, Any]:
    return {"rules": len(client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])}


_PROBES: dict[str, Callable[..., dict[str, Any]]] = {
    "ListBuckets": _list_buckets,
    "GetBucketLocation": _location,
    "ListObjectsV2": _list,
    "HeadObject": _head,
    "GetObject": _get,
    "PutObject": _put,
    "DeleteObject": _delete,
    "GetBucketVersioning": _versioning,
    "ListObjectVersions": _versions,
    "GetBucketLifecycleConfiguration": _lifecycle,
}

#: The S3 API operations :func:`probe` knows, in the order an access check runs them.
PROBE_OPERATIONS = tuple(_PROBES)


def probe(
    driver: S3Driver,
    operation: str,
    bucket: str,
    key: str = "",
    *,
    version_id: str | None = None,
) -> dict[str, Any]:
    """Run one probe (see the module table) and return what it learnt.

    Returns a small dict: ``{"region", "client_region"}`` for GetBucketLocation, ``{"key"}``
    (first key under the prefix ``key``, or ``None``) for ListObjectsV2, ``{"version_id"}``
    for PutObject, ``{"version_id", "delete_marker"}`` for DeleteObject, ``{"status"}`` for
    GetBucketVersioning, ``{"rules"}`` for the lifecycle, ``{"count"}`` for listings.

    Raises:
        ValueError: unknown ``operation``.
        StorageError: the translated failure (AccessDenied for a denied action).
    """
    fn = _PROBES.get(operation)
    if fn is None:
        raise ValueError(f"unknown probe operation {operation!r}")
    try:
        with driver._call(operation, bucket if operation != "ListBuckets" else None, key or None):
            return fn(
                driver._client(),
                bucket,
                key,
                version_id=version_id,
                write_args=dict(driver.write_args),
            )
    except InvalidRequest as exc:
        if operation == "GetObject" and exc.status == 416:  # 0-byte object: read was allowed
            return {"bytes": 0}
        raise
    except NotFound as exc:
        if exc.code == "NoSuchLifecycleConfiguration":  # allowed; the bucket has no rules
            return {"rules": 0}
        raise


def caller_identity(driver: S3Driver) -> Identity:
    """STS GetCallerIdentity with the driver's credentials, region and endpoint.

    A custom endpoint (MinIO, Ceph, moto) is asked at the same URL: moto serves STS there,
    many S3-compatible stores do not (the error then says so, e.g. 400/404/501).

    Raises:
        NoCredentials: no credentials were found. InvalidCredentials / ExpiredCredentials:
            rejected keys (STS says ``InvalidClientTokenId``, ``SignatureDoesNotMatch``,
            ``ExpiredToken``). EndpointUnreachable, StorageError: as for any call.
    """
    if driver._anonymous:
        return Identity(kind="anonymous")
    with driver._call("GetCallerIdentity"):
        resp = _sts_client(driver).get_caller_identity()
    arn = str(resp.get("Arn") or "")
    return identity_from_arn(arn, resp.get("Account"), resp.get("UserId"))


def _sts_client(driver: S3Driver) -> Any:
    """An STS client signing with exactly the credentials the S3 client uses."""
    import boto3
    from botocore.config import Config

    s3 = driver._client()
    region = s3.meta.region_name or "us-east-1"
    if driver._region is None and region == "aws-global":
        region = "us-east-1"
    # botocore internals: a client exposes no public accessor for the credentials it signs
    # with (an injected client has no session to ask). Checked against botocore 1.44.8 (and
    # 1.34.0); tests/test_sdk_internals.py.
    signer = getattr(s3, "_request_signer", None)
    creds = getattr(signer, "_credentials", None)
    if creds is None:
        raise NoCredentials(
            "no credentials were found",
            operation="GetCallerIdentity",
            provider="s3",
            endpoint=driver.endpoint,
            code="NoCredentialsError",
        )
    frozen = creds.get_frozen_credentials()
    session = boto3.Session(
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
        region_name=region,
    )
    from pail.drivers.s3.retry import botocore_retries, install

    config = Config(
        connect_timeout=driver._timeouts[0],
        read_timeout=driver._timeouts[1],
        retries=botocore_retries(),  # sent once by botocore; pail's policy retries
    )
    client = session.client("sts", endpoint_url=driver.endpoint, config=config)
    client.meta.events.register_first(
        "needs-retry.sts", _no_sts_no_retry(driver), unique_id=f"pail-sts-flavour-{id(driver)}"
    )
    return install(client, driver.retry_policy)


def _no_sts_no_retry(driver: S3Driver) -> Callable[..., None]:
    """A ``needs-retry.sts`` handler (run before pail's retry policy) that reads the
    ``Server`` header of each STS answer: it names the store's flavour
    (:meth:`pail.drivers.quirks.QuirkState.observe_server`), and when that flavour has no
    STS an error answer is final, not worth a retry. SeaweedFS 4.48 answers every
    GetCallerIdentity with 503 ServiceUnavailable, which the policy would otherwise retry
    for seconds, when the identity call is a connection's first request.

    Raises (from inside botocore's retry loop, ending the call):
        CapabilityOff: the answer was an error and the flavour has ``sts = false``.
    """
    from pail.drivers.quirks import capability_off

    def check(response: Any = None, **_: Any) -> None:
        if not response:
            return None  # no answer (a connection error): the policy decides
        http_response = response[0]
        driver.quirks.observe_server(getattr(http_response, "headers", {}).get("Server"))
        status = getattr(http_response, "status_code", None) or 0
        if status >= 300 and not driver.quirks.get("sts"):
            raise capability_off(
                driver.quirks,
                "sts",
                "GetCallerIdentity",
                provider="s3",
                endpoint=driver.endpoint,
            )
        return None

    return check
