"""Download PubMed records for a query from NCBI E-utilities, politely and without half-written files.

Why this module exists: PubMed is the main source of the abstracts the recommender ingests, and the only
sanctioned bulk route into it is E-utilities. NCBI blocks clients that ignore its rules, so the client here
follows them rather than merely working on a good day:

* one ``esearch`` with ``usehistory=y`` stores the hit list on NCBI's history server, then ``efetch`` pages
  through it with ``WebEnv``/``query_key`` (the documented way to download many records without sending
  thousands of PMIDs back and forth);
* at most 3 requests per second without an API key and 10 with one, enforced by a thread-safe limiter that
  also spaces out retries (a retry storm is exactly what gets a client blocked);
* ``tool``, ``email`` and ``api_key`` go with every request so NCBI can contact the user instead of blocking;
* transient failures (429, 5xx, dropped connections) are retried with exponential backoff and ``Retry-After``
  is honoured; anything that still fails becomes a :class:`~recommender.errors.RemoteServiceError` with a
  message a user can act on, never a raw ``requests`` traceback.

Each ``efetch`` batch is a complete ``<PubmedArticleSet>`` document written unchanged to its own file
(``pubmed-0001.xml``, ...) via a temporary file and ``os.replace``, so an interrupted download leaves only
whole files that the PubMed XML reader can ingest. The API key never appears in error messages.

Note: NCBI only serves the first 10,000 records of a PubMed search through E-utilities; ``max_results`` above
that may stop early, which shows as ``FetchResult.fetched < min(count, max_results)``.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.exceptions import MaxRetryError, NameResolutionError
from urllib3.util.retry import Retry

from .errors import InvalidInputError, RemoteServiceError, failure_reason
from .fileio import atomic_write_bytes

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
#: NCBI's published limits: requests per second without and with an API key.
RATE_WITHOUT_KEY = 3.0
RATE_WITH_KEY = 10.0
#: The largest ``retmax`` efetch accepts for PubMed.
MAX_BATCH_SIZE = 10_000
#: Answers worth retrying: throttled, or a server/gateway hiccup.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})
FILE_PATTERN = "pubmed-{:04d}.xml"


@dataclass(frozen=True)
class FetchResult:
    """What one download produced: PubMed's total hit count and the files actually written."""

    query: str
    count: int  # total hits PubMed reports for the query (may exceed what was fetched)
    fetched: int  # records written, counted in the files themselves
    files: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    """The part of an esearch answer needed to page through the hits on NCBI's history server."""

    count: int
    webenv: str
    query_key: str


class RateLimiter:
    """Minimum-interval limiter: successive :meth:`wait` calls return at least ``interval`` seconds apart.

    The interval is measured from the moment the previous caller was released (stamped after its sleep),
    not from a precomputed schedule, so a caller that woke up late never lets the next one go early. Callers
    queue on a lock while one sleeps, which is what makes it thread-safe. ``clock`` and ``sleep`` are
    injectable so tests can check the spacing without waiting.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not requests_per_second > 0:
            raise InvalidInputError(f"requests_per_second must be positive, got {requests_per_second!r}")
        self.requests_per_second = float(requests_per_second)
        self.interval = 1.0 / self.requests_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    def wait(self) -> None:
        """Block until the caller may send its next request."""
        with self._lock:
            if self._last is not None:
                delay = self._last + self.interval - self._clock()
                if delay > 0:
                    self._sleep(delay)
            self._last = self._clock()


def default_requests_per_second(api_key: str | None) -> float:
    """NCBI's allowance for this caller: 10/s with an API key, 3/s without."""
    return RATE_WITH_KEY if api_key else RATE_WITHOUT_KEY


def rate_limiter_for(api_key: str | None, requests_per_second: float | None = None) -> RateLimiter:
    """The limiter :func:`fetch_pubmed` uses: NCBI's default for the key, unless explicitly overridden."""
    rate = default_requests_per_second(api_key) if requests_per_second is None else requests_per_second
    return RateLimiter(rate)


def _unresolved(error: BaseException) -> bool:
    """Whether a requests error comes from a host name that does not resolve (requests wraps urllib3's
    MaxRetryError, whose reason is the NameResolutionError)."""
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", None), NameResolutionError)


class _LimitedRetry(Retry):
    """urllib3 retry policy whose retries also pass through the rate limiter.

    urllib3 retries inside the adapter, out of sight of the caller, so without this hook a burst of retries
    could exceed NCBI's per-second allowance.
    """

    limiter: RateLimiter | None = None

    def new(self, **kw: Any) -> _LimitedRetry:
        retry = super().new(**kw)
        retry.limiter = self.limiter
        return retry

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.limiter is not None:
            self.limiter.wait()

    def increment(  # urllib3's signature
        self,
        method: Any = None,
        url: Any = None,
        response: Any = None,
        error: Any = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> _LimitedRetry:
        """No retry when the host name does not resolve (no network, no DNS, a mistyped URL): waiting half a
        minute of backoff would not change the answer."""
        if isinstance(error, NameResolutionError):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def make_session(
    limiter: RateLimiter | None = None, *, max_retries: int = 5, backoff_factor: float = 1.0
) -> requests.Session:
    """A ``requests`` session that retries transient E-utilities failures with exponential backoff.

    Exhausted status retries hand back the last response (``raise_on_status=False``) so the caller can
    report which HTTP status NCBI kept answering.
    """
    retry = _LimitedRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.limiter = limiter
    adapter = HTTPAdapter(max_retries=retry)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class _EUtilsClient:
    """Sends rate-limited GETs to one E-utilities endpoint base and turns every failure into our errors."""

    def __init__(
        self,
        session: requests.Session,
        limiter: RateLimiter,
        *,
        base_url: str,
        common: Mapping[str, str],
        timeout: float,
        max_retries: int,
        secret: str | None,
    ) -> None:
        self.session = session
        self.limiter = limiter
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.common = dict(common)
        self.timeout = timeout
        self.max_retries = max_retries
        self.secret = secret

    def _redact(self, text: str) -> str:
        """Keep the API key out of messages and logs (it appears in URLs and some NCBI error bodies)."""
        return text.replace(self.secret, "***") if self.secret else text

    def get(self, endpoint: str, params: Mapping[str, str | int]) -> requests.Response:
        """GET ``endpoint`` with the common parameters; return a 200 response or raise RemoteServiceError."""
        try:
            # Prepare first and wait last, so the limiter releases the request right before it hits the wire.
            request = requests.Request("GET", self.base_url + endpoint, params={**params, **self.common})
            prepared = self.session.prepare_request(request)
            assert prepared.url is not None  # prepare_request always sets it (the type allows None before)
            settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
            self.limiter.wait()
            response = self.session.send(prepared, timeout=self.timeout, **settings)
        except requests.RequestException as exc:
            if _unresolved(exc):
                raise RemoteServiceError(
                    f"Could not reach NCBI E-utilities: the host of {self.base_url} does not resolve (no network "
                    "or no DNS here?); nothing was fetched"
                ) from None
            raise RemoteServiceError(
                f"Could not get an answer from NCBI E-utilities ({endpoint} at {self.base_url}) after "
                f"{self.max_retries} retries: {self._redact(str(exc))}"
            ) from None
        if response.status_code != 200:
            raise RemoteServiceError(self._status_message(endpoint, response))
        return response

    def _status_message(self, endpoint: str, response: requests.Response) -> str:
        status = response.status_code
        snippet = self._redact(" ".join(response.text[:200].split()))
        if status in RETRY_STATUSES:
            return (
                f"NCBI E-utilities ({endpoint}) kept failing: HTTP {status} after {self.max_retries} retries. "
                f"The service may be down or throttling this client; try again later"
                + (" or use an API key." if status == 429 and not self.secret else ".")
            )
        return f"NCBI E-utilities ({endpoint}) refused the request: HTTP {status} {snippet}".rstrip()


def parse_esearch(body: bytes) -> SearchResult:
    """Read count, WebEnv and query_key from an esearch JSON answer; garbled or error answers raise."""
    try:
        data = json.loads(body)
    except ValueError:
        raise RemoteServiceError(
            "NCBI esearch returned an unreadable answer (not JSON); the service may be having trouble, try again later."
        ) from None
    if isinstance(data, dict) and "error" in data and "esearchresult" not in data:
        raise RemoteServiceError(f"NCBI esearch answered with an error: {data['error']}")
    result = data.get("esearchresult") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise RemoteServiceError("NCBI esearch returned an unreadable answer (no 'esearchresult' in the JSON).")
    if "ERROR" in result:
        raise RemoteServiceError(f"NCBI esearch rejected the query: {result['ERROR']}")
    try:
        count = int(result["count"])
    except (KeyError, TypeError, ValueError):
        raise RemoteServiceError("NCBI esearch returned no usable hit count.") from None
    webenv, query_key = str(result.get("webenv") or ""), str(result.get("querykey") or "")
    if count > 0 and not (webenv and query_key):
        raise RemoteServiceError("NCBI esearch did not store the results on the history server (no WebEnv).")
    return SearchResult(count=count, webenv=webenv, query_key=query_key)


def count_records(document: bytes) -> int:
    """Number of PubmedArticle/PubmedBookArticle records in one efetch answer.

    Also the check that the answer is a real ``<PubmedArticleSet>``: NCBI sometimes answers 200 with an
    ``<eFetchResult><ERROR>`` document (e.g. an expired WebEnv), which must not be saved as data.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise RemoteServiceError(f"NCBI efetch returned malformed XML: {exc}") from None
    if root.tag != "PubmedArticleSet":
        error = root.findtext(".//ERROR")
        detail = f": {error.strip()}" if error else f" (root element <{root.tag}>)"
        raise RemoteServiceError(f"NCBI efetch did not return PubMed records{detail}")
    return sum(1 for child in root if child.tag in RECORD_TAGS)


def _validate(
    query: str, *, max_results: int, batch_size: int, timeout: float, max_retries: int, backoff: float
) -> None:
    """Reject unusable arguments before any network traffic, with messages naming the argument."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("The PubMed query is empty; give a search term such as 'asthma[mh] AND 2020[dp]'.")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidInputError(f"max_results must be a whole number of at least 1, got {max_results!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise InvalidInputError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size!r}")
    if not timeout > 0:
        raise InvalidInputError(f"timeout must be positive, got {timeout!r}")
    if max_retries < 0:
        raise InvalidInputError(f"max_retries must be 0 or more, got {max_retries!r}")
    if backoff < 0:
        raise InvalidInputError(f"backoff_factor must be 0 or more, got {backoff!r}")


def _prepare_out_dir(out_dir: Path) -> tuple[Path, list[Path]]:
    """Create the output folder up front, so a bad path fails before any request is sent; also return the
    folders this made (it and its missing parents, deepest first), for :func:`_remove_if_empty`."""
    folder = Path(out_dir)
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"Cannot create the output folder {folder}: {failure_reason(exc)}") from None
    return folder, created


def _remove_if_empty(created: list[Path]) -> None:
    """Remove the folders a fetch made when it wrote nothing into them (no network, no hits): a failed
    ``fetch-pubmed`` leaves no empty ``./pubmed/<query>/`` behind. A folder holding anything stays."""
    for path in created:
        try:
            path.rmdir()
        except OSError:
            return  # not empty (files were written) or not ours to remove: its parents stay too


def _common_params(tool: str, email: str | None, api_key: str | None) -> dict[str, str]:
    """Identification NCBI asks for on every request."""
    params = {"tool": tool}
    if email:
        params["email"] = email
    if api_key:
        params["api_key"] = api_key
    return params


def _download(
    client: _EUtilsClient, search: SearchResult, target: int, batch_size: int, folder: Path, bar: tqdm
) -> tuple[int, list[Path]]:
    """Page through the history-server result set, one file per batch; return records and files written."""
    fetched, files = 0, []
    for number, retstart in enumerate(range(0, target, batch_size), start=1):
        retmax = min(batch_size, target - retstart)
        params: dict[str, str | int] = {
            "db": "pubmed",
            "WebEnv": search.webenv,
            "query_key": search.query_key,
            "retstart": retstart,
            "retmax": retmax,
            "rettype": "abstract",
            "retmode": "xml",
        }
        document = client.get("efetch.fcgi", params).content
        records = count_records(document)
        if records == 0:
            log.warning("PubMed efetch batch at retstart=%d held no records; stopping early", retstart)
            break
        path = folder / FILE_PATTERN.format(number)
        atomic_write_bytes(path, document)
        files.append(path)
        fetched += records
        bar.update(records)
    return fetched, files


def fetch_pubmed(
    query: str,
    out_dir: Path,
    *,
    max_results: int = 1000,
    api_key: str | None = None,
    email: str | None = None,
    tool: str = "recommender",
    base_url: str = DEFAULT_BASE_URL,
    batch_size: int = 200,
    requests_per_second: float | None = None,
    timeout: float = 30.0,
    max_retries: int = 5,
    backoff_factor: float = 1.0,
    progress: bool = False,
    session: requests.Session | None = None,
) -> FetchResult:
    """Download up to ``max_results`` PubMed records matching ``query`` into ``out_dir`` as XML batches.

    Files are ``out_dir/pubmed-0001.xml``, ``pubmed-0002.xml``, ... one complete ``<PubmedArticleSet>``
    per efetch batch; ``FetchResult.files`` lists exactly those written by this call (older files in the
    folder are left alone). A query without hits writes nothing, and a call that wrote nothing (no hits, no
    network) removes the folders it made. ``requests_per_second`` overrides NCBI's
    default allowance (3/s, or 10/s with ``api_key``). A caller-supplied ``session`` is used as-is (its own
    adapters decide retries) and is not closed; otherwise one from :func:`make_session` is built.

    Raises InvalidInputError for unusable arguments and RemoteServiceError when NCBI keeps failing,
    answers garbage, or rejects the query.
    """
    _validate(
        query,
        max_results=max_results,
        batch_size=batch_size,
        timeout=timeout,
        max_retries=max_retries,
        backoff=backoff_factor,
    )
    if not base_url.startswith(("http://", "https://")):
        raise InvalidInputError(f"base_url must be an http(s) URL, got {base_url!r}")
    limiter = rate_limiter_for(api_key, requests_per_second)  # also validates requests_per_second
    folder, created = _prepare_out_dir(out_dir)
    own_session = session is None
    http = make_session(limiter, max_retries=max_retries, backoff_factor=backoff_factor) if session is None else session
    client = _EUtilsClient(
        http,
        limiter,
        base_url=base_url,
        common=_common_params(tool, email, api_key),
        timeout=timeout,
        max_retries=max_retries,
        secret=api_key,
    )
    try:
        search_params: dict[str, str | int] = {
            "db": "pubmed",
            "term": query,
            "usehistory": "y",
            "retmode": "json",
            "retmax": 0,
        }
        search = parse_esearch(client.get("esearch.fcgi", search_params).content)
        target = min(search.count, max_results)
        if target == 0:
            return FetchResult(query=query, count=search.count, fetched=0, files=[])
        with tqdm(total=target, unit="rec", desc="PubMed", file=sys.stderr, disable=not progress) as bar:
            fetched, files = _download(client, search, target, batch_size, folder, bar)
    finally:
        if own_session:
            http.close()
        _remove_if_empty(created)
    log.info("Fetched %d of %d PubMed records for %r into %d files", fetched, search.count, query, len(files))
    return FetchResult(query=query, count=search.count, fetched=fetched, files=files)
