"""MLflow / FastTrackML tracking servers: what the server knows about the runs in a bucket.

An MLflow run's artifacts live in the bucket (``<root>/<experiment_id>/<run_id>/artifacts/``)
while its name, status, params, metrics and tags live in the tracking server. With
``MLFLOW_TRACKING_URI`` set to an ``http(s)`` server, :class:`TrackingServer` reads them
through MLflow's REST API 2.0 (``/api/2.0/mlflow/...``; FastTrackML speaks the same API) and
:meth:`TrackingServer.merge` puts them on the runs detection found. The server is never
required: unreachable or failing, it costs one warning line and nothing else.

Retention uses two more calls: :meth:`TrackingServer.registered_runs` (runs that back a
registered model version are never planned for deletion) and
:meth:`TrackingServer.delete_run` (mark a run deleted in the tracker once its artifacts are
gone, so tracker and store agree).

Requests go through urllib3 (no ``mlflow`` import): connect timeout 3 s, read timeout 10 s,
at most two retries of a connection that failed or of a transient answer (429, 502, 503,
504), replies of at most :data:`MAX_REPLY_BYTES`. Credentials (``MLFLOW_TRACKING_TOKEN`` as a
Bearer token, or ``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` as basic auth,
or user:password in the URI) are sent in the Authorization header only; no message, repr or
log line carries them, and :attr:`TrackingServer.uri` is the URI without them.

Checked against FastTrackML 0.6.0 and MLflow 2.22's own server: FastTrackML ignores
``max_results`` of ``metrics/get-history`` (one page holds the whole history), sends a
``next_page_token`` after a full last page (the next page is empty), and has no model
registry (``model-versions/search`` answers an empty list whatever exists, the other
registry endpoints 404 ENDPOINT_NOT_FOUND).
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from base64 import b64encode
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import urllib3
from urllib3 import exceptions as ux
from urllib3.util.retry import Retry

from pail import __version__
from pail.core.units import plural, size_text
from pail.core.uri import SCHEMES
from pail.services.jobs import DaemonPool
from pail.services.runs.layouts.base import RUN_ID
from pail.services.runs.model import MetricPoint, Run, RunSet

log = logging.getLogger(__name__)

#: Seconds to wait for a connection, and for each read of the reply.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
#: Retries of a connection that failed or a transient answer (429, 502, 503, 504).
RETRIES = 2
#: Bytes of one reply at most (a metric history of a million points is ~60 MB of JSON).
MAX_REPLY_BYTES = 64 * 1024 * 1024
#: Pages of one listing at most; past that the listing fails rather than stop silently.
MAX_PAGES = 1000
#: Page sizes asked for (MLflow's own defaults; servers may send fewer).
RUNS_PAGE = 1000
EXPERIMENTS_PAGE = 1000
HISTORY_PAGE = 25_000
VERSIONS_PAGE = 10_000
#: Experiments per ``runs/search`` request.
EXPERIMENTS_PER_SEARCH = 100
#: Metrics per run whose whole history :meth:`TrackingServer.merge` reads (the others keep
#: the last value ``runs/search`` gave), and history requests per merge at most.
MAX_HISTORIES_PER_RUN = 50
MAX_HISTORY_REQUESTS = 2000
#: Points of one metric's history at most (the last value is kept past that).
MAX_POINTS = 100_000
#: History requests in flight at once.
HISTORY_READERS = 8

_API = "/api/2.0/mlflow/"
_TRANSIENT = (429, 502, 503, 504)
_TRUE = {"1", "true", "yes", "on"}


class TrackingError(Exception):
    """A tracking server request failed. ``str()`` is one plain line without credentials,
    e.g. ``"tracking server http://host:5000: unreachable (connection refused)"``.

    Attributes:
        status: the HTTP status the server answered, or ``None`` when it did not answer
            (unreachable, timed out, TLS failure) or answered something that is not MLflow's.
        code: MLflow's ``error_code`` (``RESOURCE_DOES_NOT_EXIST``, ``ENDPOINT_NOT_FOUND``,
            ...) when the answer carried one.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class TrackedExperiment:
    """An experiment as the server lists it (``artifact_location`` e.g. ``s3://b/root/1``,
    ``lifecycle_stage`` ``"active"`` or ``"deleted"``)."""

    id: str
    name: str
    artifact_location: str = ""
    lifecycle_stage: str = "active"


@dataclass
class TrackedRun:
    """A run as ``runs/search`` returns it.

    Attributes:
        id: the 32-hex run id. experiment_id: its experiment's id.
        name: the run name (``info.run_name``, else the ``mlflow.runName`` tag), or ``""``.
        status: ``RUNNING``, ``SCHEDULED``, ``FINISHED``, ``FAILED`` or ``KILLED``.
        start / end: UTC times (``None`` when the server has none, e.g. a running run's end).
        artifact_uri: where its artifacts are (``s3://b/root/1/<id>/artifacts``,
            ``mlflow-artifacts:/...``).
        lifecycle_stage: ``"active"`` or ``"deleted"`` (deleted in the tracker; the
            artifacts stay until the tracker's garbage collection).
        params, tags: name -> value. metrics: name -> the last logged point only (the
            history is :meth:`TrackingServer.metric_history`).
    """

    id: str
    experiment_id: str
    name: str = ""
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    artifact_uri: str = ""
    lifecycle_stage: str = "active"
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, MetricPoint] = field(default_factory=dict)


class TrackingServer:
    """An MLflow-compatible tracking server reached over its REST API.

    Args:
        uri: ``http(s)://host[:port][/path]``, the MLflow tracking URI; user:password in
            it is used as basic auth (unless ``token`` or ``username`` is given) and dropped
            from :attr:`uri`.
        token: a Bearer token (``MLFLOW_TRACKING_TOKEN``); wins over basic auth.
        username / password: basic auth (``MLFLOW_TRACKING_USERNAME`` / ``_PASSWORD``).
        insecure_tls: do not verify the server's TLS certificate.
        ca_certs: a CA bundle file to verify it with (``MLFLOW_TRACKING_SERVER_CERT_PATH``).
        client_cert: a client certificate file, key included
            (``MLFLOW_TRACKING_CLIENT_CERT_PATH``).
        connect_timeout / read_timeout: seconds.
        retries: retries of a failed connection or a transient answer.

    Raises:
        ValueError: ``uri`` is not an http(s) URI.

    Attributes:
        uri: the URI without credentials, query or trailing ``/`` (safe to show).
        auth: ``"token"``, ``"basic"`` or ``"none"``.
        notes: plain lines about what the server lacks, filled as calls find out (``"...
            has no model registry"``); never an error.
        server: the ``Server`` header of its last answer (``"FastTrackML/0.6.0"``), or ``""``.

    Every method may raise :class:`TrackingError` except :meth:`merge`, which never raises
    for the server's sake. Methods may be called from any thread.
    """

    def __init__(
        self,
        uri: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        insecure_tls: bool = False,
        ca_certs: str | None = None,
        client_cert: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        retries: int = RETRIES,
    ) -> None:
        parts = urlsplit(uri.strip())
        scheme = parts.scheme.lower()
        host = parts.netloc.rpartition("@")[2]
        if scheme not in ("http", "https") or not host:
            raise ValueError("a tracking server URI is http://HOST[:PORT] or https://...")
        if token is None and username is None and parts.username is not None:
            username, password = parts.username, parts.password or ""
        self.uri = urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))
        self._base = self.uri + _API
        self._headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"pail/{__version__}",
        }
        self._secrets: list[str] = []
        if token:
            self.auth = "token"
            self._headers["Authorization"] = f"Bearer {token}"
            self._secrets.append(token)
        elif username is not None:
            self.auth = "basic"
            pair = b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {pair}"
            self._secrets += [s for s in (password, pair) if s]
        else:
            self.auth = "none"
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._retries = retries
        self.notes: list[str] = []
        self.server = ""
        self._pool = _pool(scheme, parts.hostname or "", insecure_tls, ca_certs, client_cert)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> TrackingServer | None:
        """The server ``MLFLOW_TRACKING_URI`` names, or ``None`` when it is unset, empty or
        not http(s) (a ``file:`` URI or path is MLflow's file store, ``databricks`` is not
        a server pail talks to).

        Reads ``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_TRACKING_USERNAME`` /
        ``MLFLOW_TRACKING_PASSWORD``, ``MLFLOW_TRACKING_INSECURE_TLS`` (``true``/``1``),
        ``MLFLOW_TRACKING_SERVER_CERT_PATH`` and ``MLFLOW_TRACKING_CLIENT_CERT_PATH``, as
        MLflow's client does. No request is made.
        """
        uri = (environ.get("MLFLOW_TRACKING_URI") or "").strip()
        if urlsplit(uri).scheme.lower() not in ("http", "https"):
            return None
        try:
            return cls(
                uri,
                token=environ.get("MLFLOW_TRACKING_TOKEN") or None,
                username=environ.get("MLFLOW_TRACKING_USERNAME") or None,
                password=environ.get("MLFLOW_TRACKING_PASSWORD") or None,
                insecure_tls=(environ.get("MLFLOW_TRACKING_INSECURE_TLS") or "").strip().lower()
                in _TRUE,
                ca_certs=environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None,
                client_cert=environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None,
            )
        except ValueError:
            return None

    def __repr__(self) -> str:
        return f"TrackingServer({self.uri!r}, auth={self.auth!r})"

    # -- the REST calls ---------------------------------------------------------------

    def experiments(self) -> list[TrackedExperiment]:
        """Every experiment, deleted ones included (``experiments/search``, paged).

        Raises:
            TrackingError.
        """
        found = []
        params = {"max_results": EXPERIMENTS_PAGE, "view_type": "ALL"}
        for item in self._paged("POST", "experiments/search", "experiments", params):
            experiment_id = str(item.get("experiment_id") or "")
            if experiment_id:
                found.append(
                    TrackedExperiment(
                        experiment_id,
                        str(item.get("name") or ""),
                        str(item.get("artifact_location") or ""),
                        str(item.get("lifecycle_stage") or "active"),
                    )
                )
        return found

    def runs(self, experiment_ids: Sequence[str], *, view: str = "ACTIVE_ONLY") -> list[TrackedRun]:
        """The runs of these experiments (``runs/search``, 1,000 a page, 100 experiments a
        search).

        Args:
            experiment_ids: experiment ids (``"0"``, ``"1"``, ...); none gives ``[]``.
            view: ``"ACTIVE_ONLY"`` (MLflow's default), ``"DELETED_ONLY"`` or ``"ALL"``.

        Raises:
            TrackingError.
        """
        ids = [str(i) for i in dict.fromkeys(experiment_ids)]
        found: list[TrackedRun] = []
        for at in range(0, len(ids), EXPERIMENTS_PER_SEARCH):
            params = {
                "experiment_ids": ids[at : at + EXPERIMENTS_PER_SEARCH],
                "max_results": RUNS_PAGE,
                "run_view_type": view,
            }
            for item in self._paged("POST", "runs/search", "runs", params):
                run = _tracked_run(item)
                if run is not None:
                    found.append(run)
        return found

    def run(self, run_id: str) -> TrackedRun:
        """One run, deleted or not (``runs/get``).

        Raises:
            TrackingError: ``code`` ``RESOURCE_DOES_NOT_EXIST`` when the server has no such run.
        """
        doc = self._call("GET", "runs/get", {"run_id": run_id})
        run = _tracked_run(doc.get("run"))
        if run is None:
            raise TrackingError(f"tracking server {self.uri}: runs/get answered no run")
        return run

    def metric_history(
        self, run_id: str, key: str, *, limit: int = MAX_POINTS
    ) -> list[MetricPoint]:
        """Every logged point of metric ``key`` of run ``run_id``, in logging order
        (``metrics/get-history``, paged), at most ``limit`` (the first ones); ``[]`` when the
        run never logged ``key``.

        Raises:
            TrackingError: ``code`` ``RESOURCE_DOES_NOT_EXIST`` when the run is unknown.
        """
        points: list[MetricPoint] = []
        params = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
        for item in self._paged("GET", "metrics/get-history", "metrics", params):
            point = _point(item)
            if point is not None:
                points.append(point)
                if len(points) >= limit:
                    break
        return points

    def registered_runs(self) -> dict[str, str]:
        """The runs that back a registered model version: run id -> ``"model NAME version
        N"`` (several versions joined with ``", "``), from ``model-versions/search`` (paged).

        A version's run is its ``run_id``, else the run id in its ``source``
        (``runs:/<id>/model``, ``.../<id>/artifacts/model``). A server without a model
        registry (FastTrackML 0.6: ``model-versions/search`` answers an empty list; others
        404 while ``experiments/search`` answers) gives ``{}`` and a line in :attr:`notes`:
        no model version can exist there.

        Raises:
            TrackingError: the server is unreachable or failed otherwise. Retention must
                then refuse to plan: an unread registry protects nothing.
        """
        versions: dict[str, list[str]] = {}
        try:
            items = list(
                self._paged(
                    "GET", "model-versions/search", "model_versions", {"max_results": VERSIONS_PAGE}
                )
            )
        except TrackingError as exc:
            if exc.status != 404:
                raise
            if exc.code != "ENDPOINT_NOT_FOUND":
                # A bare 404 may be a proxy's answer for a wrong URI, not a server without a
                # registry: believe "no registry" only once the tracking API answers there.
                self._call("POST", "experiments/search", {"max_results": 1})
            self._note(f"tracking server {self.uri} has no model registry (HTTP 404)")
            return {}
        if self.server.lower().startswith("fasttrackml"):
            self._note(
                f"tracking server {self.uri} is {self.server}, which has no model registry: "
                "no run backs a registered model version"
            )
        for item in items:
            run_id = str(item.get("run_id") or "") or _run_in_source(str(item.get("source") or ""))
            if not RUN_ID.fullmatch(run_id):
                continue
            label = f"model {item.get('name') or '?'} version {item.get('version') or '?'}"
            versions.setdefault(run_id, []).append(label)
        return {run_id: ", ".join(labels) for run_id, labels in versions.items()}

    def delete_run(self, run_id: str) -> None:
        """Mark run ``run_id`` deleted in the tracker (``runs/delete``; its
        ``lifecycle_stage`` becomes ``deleted``; the server's own garbage collection removes
        it later). Returns only when the server answered 200; deleting a run already deleted
        succeeds.

        Raises:
            ValueError: ``run_id`` is not a 32-hex MLflow run id.
            TrackingError: any other answer, or none (``code`` ``RESOURCE_DOES_NOT_EXIST``
                for an unknown run).
        """
        if not RUN_ID.fullmatch(run_id):
            raise ValueError(f"not an MLflow run id: {run_id[:40]!r}")
        self._call("POST", "runs/delete", {"run_id": run_id})
        log.info("tracking server %s: run %s marked deleted", self.uri, run_id)

    # -- merging into detection's runs ------------------------------------------------

    def merge(self, result: RunSet) -> None:
        """Put what the server knows on the MLflow runs of ``result`` (layout ``"mlflow"``,
        32-hex ids): name, status, start/end, params, tags, metrics (whole histories, at
        most :data:`MAX_HISTORIES_PER_RUN` per run; the others their last value),
        ``protected`` for runs behind a registered model version, ``"tracking server"``
        appended to ``sources``, the tag ``mlflow.lifecycle_stage`` = ``deleted`` for a run
        deleted in the tracker; ``result.tracking`` = :attr:`uri` once a run was merged.

        A run whose id the server knows but whose ``artifact_uri`` names another bucket or
        prefix is not merged (a copy of the run, not the run). Never raises for the server's
        sake: unreachable or failing, it adds one line to ``result.warnings`` and changes
        no run; other remarks (runs unknown to the server, runs deleted in it) are warning
        lines too.
        """
        candidates = [r for r in result.runs if r.layout == "mlflow" and RUN_ID.fullmatch(r.id)]
        if not candidates:
            return
        try:
            tracked, names = self._tracked_for(candidates)
        except TrackingError as exc:
            result.warnings.append(str(exc))
            return
        try:
            registered = self.registered_runs()
        except TrackingError as exc:
            registered = {}
            result.warnings.append(f"{exc}; registered model versions not read")
        known: dict[str, TrackedRun] = {}
        elsewhere: list[str] = []
        for run in candidates:
            match = tracked.get(run.id)
            if match is None:
                continue
            if _stored_elsewhere(match.artifact_uri, result, run):
                elsewhere.append(match.artifact_uri)
            else:
                known[run.id] = match
        try:
            histories, remarks = self._histories([r for r in candidates if r.id in known], known)
        except TrackingError as exc:
            result.warnings.append(str(exc))
            return
        for run in candidates:
            match = known.get(run.id)
            if match is not None:
                _apply(run, match, histories.get(run.id, {}))
                # an artifact root's folder is the experiment's id; the server has its name
                run.experiment = names.get(match.experiment_id) or run.experiment
            label = registered.get(run.id)
            if label is not None:
                reason = f"backs registered {label}"
                run.protected = f"{run.protected}; {reason}" if run.protected else reason
        if known:
            result.tracking = self.uri
        result.warnings.extend(self._remarks(candidates, known, elsewhere, remarks))

    def _tracked_for(
        self, candidates: Sequence[Run]
    ) -> tuple[dict[str, TrackedRun], dict[str, str]]:
        """The server's runs among ``candidates`` by id, searched in their experiments (the
        run's ``experiment`` as an id or a name), or in every experiment when one is not
        the server's; and experiment id -> name."""
        experiments = self.experiments()
        by_id = {e.id: e.id for e in experiments}
        by_name = {e.name: e.id for e in experiments}
        wanted: list[str] = []
        for run in candidates:
            experiment = run.experiment or ""
            found = by_id.get(experiment) or by_name.get(experiment)
            if found is None:
                wanted = list(by_id)
                break
            wanted.append(found)
        ids = {run.id for run in candidates}
        names = {e.id: e.name for e in experiments if e.name}
        return {r.id: r for r in self.runs(wanted, view="ALL") if r.id in ids}, names

    def _histories(
        self, runs: Sequence[Run], known: Mapping[str, TrackedRun]
    ) -> tuple[dict[str, dict[str, list[MetricPoint]]], dict[str, int]]:
        """run id -> metric -> history, read concurrently for the first runs' first
        metrics within the budgets; and counts of what was left at the last value."""
        remarks = {"many metrics": 0, "over budget": 0, "cut": 0}
        jobs: list[tuple[str, str]] = []
        for run in runs:
            names = sorted(known[run.id].metrics)
            if len(names) > MAX_HISTORIES_PER_RUN:
                remarks["many metrics"] += 1
            for name in names[:MAX_HISTORIES_PER_RUN]:
                if len(jobs) >= MAX_HISTORY_REQUESTS:
                    remarks["over budget"] += 1
                    break
                jobs.append((run.id, name))
        out: dict[str, dict[str, list[MetricPoint]]] = {}
        if not jobs:
            return out, remarks
        futures: list[tuple[str, str, Future[list[MetricPoint]]]] = []
        with DaemonPool(HISTORY_READERS, name="pail-tracking") as pool:
            for run_id, name in jobs:
                futures.append((run_id, name, pool.submit(self.metric_history, run_id, name)))
            for run_id, name, future in futures:
                try:
                    points = future.result()
                except TrackingError as exc:
                    if exc.code == "RESOURCE_DOES_NOT_EXIST":  # deleted since the search
                        continue
                    for _, _, other in futures:
                        other.cancel()
                    raise
                if len(points) >= MAX_POINTS:
                    remarks["cut"] += 1
                    last = known[run_id].metrics.get(name)
                    if last is not None and points[-1] != last:
                        points.append(last)
                if points:
                    out.setdefault(run_id, {})[name] = points
        return out, remarks

    def _remarks(
        self,
        candidates: Sequence[Run],
        known: Mapping[str, TrackedRun],
        elsewhere: Sequence[str],
        counts: Mapping[str, int],
    ) -> list[str]:
        head = f"tracking server {self.uri}"
        lines = []
        unknown = len(candidates) - len(known) - len(elsewhere)
        if unknown:
            lines.append(
                f"{head}: {plural(unknown, 'MLflow run')} of {len(candidates):,} "
                "not known to the server (no name, status, params or metrics from it)"
            )
        if elsewhere:
            lines.append(
                f"{head}: {plural(len(elsewhere), 'run')} share an id with a tracked run whose "
                f"artifacts are elsewhere ({elsewhere[0]}); not merged"
            )
        deleted = sum(1 for r in known.values() if r.lifecycle_stage == "deleted")
        if deleted:
            lines.append(
                f"{head}: {plural(deleted, 'run')} deleted in the tracker; "
                "the artifacts are still here"
            )
        if counts.get("many metrics"):
            lines.append(
                f"{head}: {plural(counts['many metrics'], 'run')} logged more than "
                f"{MAX_HISTORIES_PER_RUN} metrics; the others show their last value only"
            )
        if counts.get("over budget"):
            lines.append(
                f"{head}: metric histories read for the first {MAX_HISTORY_REQUESTS:,} "
                "metrics only; the others show their last value only"
            )
        if counts.get("cut"):
            lines.append(
                f"{head}: {plural(counts['cut'], 'metric history', 'metric histories')} "
                f"longer than {MAX_POINTS:,} points read up to that point and the last value"
            )
        return lines

    # -- HTTP -------------------------------------------------------------------------

    def _paged(
        self, method: str, endpoint: str, field_name: str, params: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """The items of ``field_name`` over every page (``page_token`` /
        ``next_page_token``). Stops at a missing token, an empty page or a token seen
        before; more than :data:`MAX_PAGES` pages is a TrackingError."""
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            asked = dict(params)
            if token:
                asked["page_token"] = token
            doc = self._call(method, endpoint, asked)
            items = doc.get(field_name) or []
            if not isinstance(items, list):
                raise TrackingError(
                    f"tracking server {self.uri}: {endpoint} answered a malformed page"
                )
            yield from (item for item in items if isinstance(item, dict))
            token = doc.get("next_page_token") or None
            if not token or not items or token in seen:
                return
            seen.add(token)
        raise TrackingError(
            f"tracking server {self.uri}: {endpoint} has more than {MAX_PAGES} pages"
        )

    def _call(self, method: str, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One request: GET with ``params`` as the query, POST with them as a JSON body.
        Returns the JSON object of a 200 answer; raises TrackingError for anything else."""
        url = self._base + endpoint
        body = None
        if method == "GET":
            url += "?" + urlencode(params, doseq=True)
        else:
            body = json.dumps(params).encode()
        retry = Retry(
            total=None,
            connect=self._retries,
            read=1,
            status=self._retries,
            other=0,
            redirect=0,
            raise_on_redirect=False,
            raise_on_status=False,
            status_forcelist=_TRANSIENT,
            allowed_methods=frozenset({"GET", "POST"}),
            backoff_factor=0.2,
            respect_retry_after_header=False,
        )
        timeout = urllib3.Timeout(connect=self._connect_timeout, read=self._read_timeout)
        log.debug("tracking server %s: %s %s", self.uri, method, endpoint)
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=self._headers,
                timeout=timeout,
                retries=retry,
                preload_content=False,
            )
        except ux.MaxRetryError as exc:
            raise self._error(f"unreachable ({self._why(exc.reason)})") from None
        except (ux.HTTPError, OSError) as exc:
            raise self._error(f"unreachable ({self._why(exc)})") from None
        try:
            data = self._read(response, endpoint)
        finally:
            response.release_conn()
        self.server = str(response.headers.get("Server") or "")[:80]
        status = response.status
        if status == 200:
            try:
                doc = json.loads(data)
            except ValueError:
                doc = None
            if not isinstance(doc, dict):
                raise self._error(
                    f"{endpoint} answered something that is not MLflow's JSON; is "
                    "MLFLOW_TRACKING_URI an MLflow or FastTrackML server?"
                )
            return doc
        code, message = _error_fields(data)
        if status in (401, 403):
            raise self._error(
                f"access denied (HTTP {status}); set MLFLOW_TRACKING_TOKEN or "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
                status,
                code,
            )
        if 300 <= status < 400:
            raise self._error(
                f"{endpoint} answered a redirect (HTTP {status}); set MLFLOW_TRACKING_URI "
                "to the address it moved to",
                status,
                code,
            )
        detail = f" {code}" if code else ""
        detail += f": {message}" if message else ""
        raise self._error(f"{endpoint} failed: HTTP {status}{detail}", status, code)

    def _read(self, response: Any, endpoint: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream(1024 * 1024):
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise self._error(
                        f"{endpoint} answered more than {size_text(MAX_REPLY_BYTES)}; not read"
                    )
                chunks.append(chunk)
        except ux.HTTPError as exc:
            raise self._error(f"unreachable ({self._why(exc)})") from None
        return b"".join(chunks)

    def _error(
        self, text: str, status: int | None = None, code: str | None = None
    ) -> TrackingError:
        message = f"tracking server {self.uri}: {text}"
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return TrackingError(" ".join(message.split()), status=status, code=code)

    def _why(self, reason: BaseException | None) -> str:
        """Why a request got no answer, in a few plain words."""
        resolution = getattr(ux, "NameResolutionError", None)
        if resolution is not None and isinstance(reason, resolution):
            return "host name not found"
        if isinstance(reason, ux.NewConnectionError):
            text = str(reason).rpartition("new connection: ")[2] or "no connection"
            text = text.split("] ", 1)[-1] if text.startswith("[Errno") else text
            if "Name or service not known" in text or "nodename nor servname" in text:
                return "host name not found"
            return text[:1].lower() + text[1:80]
        if isinstance(reason, ux.ConnectTimeoutError):
            return f"no connection within {self._connect_timeout:g} s"
        if isinstance(reason, ux.ReadTimeoutError):
            return f"no reply within {self._read_timeout:g} s"
        if isinstance(reason, ux.SSLError):
            return f"TLS: {str(reason)[:120]}"
        if isinstance(reason, ux.ProxyError):
            return "the proxy failed"
        if isinstance(reason, ux.ProtocolError):
            return "the connection closed mid-reply"
        if isinstance(reason, ux.ResponseError):
            return "too many transient errors"
        return type(reason).__name__ if reason is not None else "no answer"

    def _note(self, line: str) -> None:
        if line not in self.notes:
            self.notes.append(line)


def _pool(
    scheme: str, host: str, insecure: bool, ca_certs: str | None, client_cert: str | None
) -> urllib3.PoolManager:
    """A pool for the server: through the environment's proxy (``https_proxy`` etc., as
    MLflow's client honours them) unless ``no_proxy`` names the host."""
    tls: dict[str, Any] = {}
    if scheme == "https":
        if insecure:
            tls["cert_reqs"] = "CERT_NONE"
        elif ca_certs:
            tls["ca_certs"] = ca_certs
        if client_cert:
            tls["cert_file"] = client_cert
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        headers = None
        if parts.username is not None:
            auth = f"{parts.username}:{parts.password or ''}"
            headers = urllib3.make_headers(proxy_basic_auth=auth)
        clean = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], "", "", ""))
        return urllib3.ProxyManager(clean, proxy_headers=headers, maxsize=HISTORY_READERS, **tls)
    return urllib3.PoolManager(maxsize=HISTORY_READERS, **tls)


def _error_fields(data: bytes) -> tuple[str | None, str]:
    """MLflow's ``{"error_code": ..., "message": ...}``; else no code and no message (an
    HTML error page says nothing worth a line)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return None, ""
    if not isinstance(doc, dict):
        return None, ""
    code = doc.get("error_code")
    message = " ".join(str(doc.get("message") or "").split())
    if len(message) > 200:
        message = message[:200] + "…"
    return (str(code) if code else None), message


def _tracked_run(item: Any) -> TrackedRun | None:
    if not isinstance(item, dict):
        return None
    info = item.get("info") or {}
    data = item.get("data") or {}
    if not isinstance(info, dict) or not isinstance(data, dict):
        return None
    run_id = str(info.get("run_id") or info.get("run_uuid") or "")
    if not run_id:
        return None
    tags = _pairs(data.get("tags"))
    metrics: dict[str, MetricPoint] = {}
    for entry in data.get("metrics") or []:
        point = _point(entry)
        if point is not None and isinstance(entry, dict):
            metrics[str(entry.get("key"))] = point
    return TrackedRun(
        id=run_id,
        experiment_id=str(info.get("experiment_id") or ""),
        name=str(info.get("run_name") or tags.get("mlflow.runName") or ""),
        status=str(info["status"]) if info.get("status") else None,
        start=_time(info.get("start_time")),
        end=_time(info.get("end_time")),
        artifact_uri=str(info.get("artifact_uri") or ""),
        lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
        params=_pairs(data.get("params")),
        tags=tags,
        metrics=metrics,
    )


def _pairs(entries: Any) -> dict[str, str]:
    out = {}
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("key") is not None:
            out[str(entry["key"])] = str(
                entry.get("value") if entry.get("value") is not None else ""
            )
    return out


def _point(entry: Any) -> MetricPoint | None:
    """A metric entry ``{"key", "value", "timestamp" (ms), "step"}``; numbers may come as
    strings (``"NaN"``, protobuf's int64 as text); ``None`` when the value is unusable."""
    if not isinstance(entry, dict):
        return None
    try:
        value = float(entry.get("value"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    try:  # MLflow's step defaults to 0 (proto ``[default = 0]``, left out of some JSON)
        step = int(entry.get("step") or 0)
    except (TypeError, ValueError):
        step = 0
    return MetricPoint(step, value, _time(entry.get("timestamp")))


def _time(ms: Any) -> datetime | None:
    """Milliseconds since the epoch -> UTC datetime; ``None`` for 0, none or garbage."""
    try:
        number = int(ms)
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _run_in_source(source: str) -> str:
    """The run id in a model version's source: ``runs:/<id>/...`` or ``.../<id>/artifacts/...``."""
    if source.startswith("runs:/"):
        return source[len("runs:/") :].split("/", 1)[0]
    parts = source.split("/")
    for i, part in enumerate(parts[:-1]):
        if parts[i + 1] == "artifacts" and RUN_ID.fullmatch(part):
            return part
    return ""


def _stored_elsewhere(artifact_uri: str, result: RunSet, run: Run) -> bool:
    """True when ``artifact_uri`` names a bucket location (``s3://``, ``gs://``) other than
    the run's own prefixes in ``result``'s bucket. Other schemes (``mlflow-artifacts:``
    proxied by the server, ``file:``, ``dbfs:``) say nothing about where, so not elsewhere."""
    scheme, _, rest = artifact_uri.partition("://")
    provider = SCHEMES.get(scheme.lower())
    if provider is None or provider == "local" or not rest:
        return False
    bucket, _, key = rest.partition("/")
    if provider != result.provider or bucket != result.bucket:
        return True
    key = key.rstrip("/") + "/"
    return not any(key.startswith(prefix) for prefix in run.prefixes)


def _apply(run: Run, tracked: TrackedRun, histories: Mapping[str, list[MetricPoint]]) -> None:
    if tracked.name:
        run.name = tracked.name
    if tracked.status:
        run.status = tracked.status
    run.start = tracked.start or run.start
    run.end = tracked.end or run.end
    run.params.update(tracked.params)
    run.tags.update(tracked.tags)
    if tracked.lifecycle_stage == "deleted":  # as the MLflow layout marks a deleted file-store run
        run.tags["mlflow.lifecycle_stage"] = "deleted"
    for name, last in tracked.metrics.items():
        run.metrics[name] = list(histories.get(name) or [last])
    if "tracking server" not in run.sources:
        run.sources.append("tracking server")
