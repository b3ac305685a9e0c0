"""The detail pane names what a connection's store was found to lack (pail.drivers.quirks):
a real 501 from STS, through the fault proxy in front of moto."""

from __future__ import annotations

import pytest

from pail.drivers.errors import StorageError
from pail.drivers.retry import RetryPolicy
from pail.drivers.s3 import S3Driver
from pail.ui.widgets.detail import _quirks_text
from support.fault_proxy import Rule
from support.servers import REGION


def test_connection_detail_says_what_was_remembered(s3_endpoint, faults):
    driver = S3Driver(
        endpoint_url=faults.url,
        region=REGION,
        path_style=True,
        access_key_id="testing",
        secret_access_key="testing",
        retry=RetryPolicy(attempts=1, base=0.001, cap=0.001, total=5.0),
    )
    assert _quirks_text(driver) == ""  # nothing failed yet: no row
    faults.add(Rule(method="POST", path="^/$", times=None, status=501))
    with pytest.raises(StorageError):
        driver.caller_identity()
    text = _quirks_text(driver).plain
    assert text.startswith("generic (default)")
    assert "GetCallerIdentity answered 501 NotImplemented; using sts = false" in text
