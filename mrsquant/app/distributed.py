"""Scale-out: the batched core over chunks on dask.distributed.

``fit_distributed(model, spectra, client=...)`` is ``model.fit(spectra)`` with
the chunks shipped to dask workers. Each worker runs the same batched numpy
call (:func:`mrsquant.fitting.model.fit_batch`) on a chunk of the flattened
``(N, n_points)`` FIDs; the fixed design is scattered to every worker once.
Each spectrum's fit is independent of the rest of its chunk, so the result
equals the in-process result to floating-point tolerance whatever the chunking.

Workers started by dask's nanny get ``MALLOC_TRIM_THRESHOLD_=65536``, which
disables glibc's adaptive mmap threshold: every large numpy temporary is then
mmap'd and page-faulted afresh, and the core ran about 2x slower on our
benchmark machine. Start workers without it (docs/scale.md).

A chunk that raises is retried (dask ``retries=``); a chunk that still fails
is reported, never dropped: its spectra get NaN rows and the status
``failed: <reason>`` in ``FitResult.status`` (and ``FitResult.failed_chunks``
lists them), or :class:`~mrsquant.errors.MRSQuantError` is raised with
``on_error="raise"``.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import numpy as np
from tqdm import tqdm

from ..errors import InputError, MRSQuantError
from ..fitting.model import FitModel, _single_threaded_blas, assemble_result, fit_batch
from ..fitting.result import FitResult
from ..spectra import Spectra

#: retries of a failed chunk before it is reported
DEFAULT_RETRIES = 2
#: spectra per task unless told: small enough to balance and to keep each worker's working
#: set small (the core is memory-bound: 64 is faster per spectrum than 256 on our 2-core VM)
DEFAULT_CHUNK_SIZE = 64


def chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in chunks of ``chunk_size``.

    Examples
    --------
    >>> chunk_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def _fit_chunk(fids, design, options, basis_names):
    """Worker task: one batched fit of a chunk (module level so that it pickles by name)."""
    with _single_threaded_blas():   # as in-process: threaded BLAS only costs on small batched products
        return fit_batch(design, fids, options, basis_names)


@contextmanager
def connect(client=None, scheduler=None):
    """Yield a dask ``Client``: the one given, or one connected to ``scheduler``.

    A client made here is closed on exit; a client passed in is left open.
    ``scheduler`` is an address (``tcp://host:8786``) or a ``Client``.
    """
    try:
        from distributed import Client  # lazy: optional
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
        raise MRSQuantError("the distributed path needs dask[distributed]: "
                            "pip install 'dask[distributed]'") from exc
    if client is None and scheduler is not None and not isinstance(scheduler, str):
        client, scheduler = scheduler, None
    if client is not None:
        yield client
        return
    if scheduler is None:
        raise InputError("give client= (a dask.distributed Client) or scheduler= (its address)")
    try:
        own = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot connect to dask scheduler {scheduler!r}: {exc}") from exc
    try:
        yield own
    finally:
        own.close()


_TRIM_CHECKED: set = set()


def _check_worker_env(client) -> None:
    """Once per scheduler: a hint on stderr when workers carry dask's MALLOC_TRIM_THRESHOLD_."""

    addr = getattr(client.scheduler, "address", None)
    if addr in _TRIM_CHECKED:
        return
    _TRIM_CHECKED.add(addr)
    try:
        values = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
    except Exception:  # pragma: no cover - a hint only
        return
    if any(v is not None for v in values.values()):
        print("mrsquant: note: dask workers run with MALLOC_TRIM_THRESHOLD_ set, which slows the fit "
              "about 2x; see docs/scale.md to start them without it", file=sys.stderr)


def _progress_callback(progress, total):
    """``progress`` may be None, a callable ``progress(n_done)`` or True (a tqdm bar on stderr)."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None

    bar = tqdm(total=total, unit="spectrum", desc="fitting (dask)", file=sys.stderr, leave=False)
    done = [0]

    def tick(n_done):
        bar.update(n_done - done[0])
        done[0] = n_done
    return tick, bar.close


def fit_distributed(model: FitModel, spectra: Spectra, *, client=None, scheduler=None, names=None,
                    progress=None, chunk_size: int | None = None, retries: int = DEFAULT_RETRIES,
                    on_error: str = "report") -> FitResult:
    """Fit ``spectra`` (any leading dims) on dask workers; same result as ``model.fit``.

    Parameters
    ----------
    model : FitModel
    spectra : Spectra
        ``(..., n_points)``; flattened to ``(N, n_points)`` as in ``FitModel.fit``.
    client : distributed.Client, optional
        An existing client (left open).
    scheduler : str or Client, optional
        Scheduler address, used when ``client`` is None (connection closed afterwards).
    names : list of str, optional
        One name per spectrum (default ``spectrum0``, ``spectrum1``...).
    progress : None, True or callable
        ``progress(n_done)`` after each finished chunk, or True for a tqdm bar.
    chunk_size : int, optional
        Spectra per task; default the smaller of ``model.options.chunk_size`` and
        :data:`DEFAULT_CHUNK_SIZE`. The fit of a spectrum does not depend on the other
        spectra of its chunk, so any chunking gives ``model.fit``'s numbers (to ~1e-8).
    retries : int
        Automatic retries of a chunk whose task raised (or whose worker died).
    on_error : {"report", "raise"}
        What to do with a chunk that failed after its retries: NaN rows with status
        ``failed: ...`` (and a warning on stderr), or raise ``MRSQuantError``.

    Returns
    -------
    FitResult
        With ``failed_chunks``: list of ``(start, stop, reason)`` (empty when all succeeded).
    """
    if on_error not in ("report", "raise"):
        raise ValueError(f"on_error must be 'report' or 'raise', got {on_error!r}")
    design, fids, names, mismatch = model.prepare(spectra, names)
    n = fids.shape[0]
    bounds = chunk_bounds(n, chunk_size or min(model.options.chunk_size, DEFAULT_CHUNK_SIZE))
    tick, close_bar = _progress_callback(progress, n)
    parts: dict[int, dict] = {}
    failures: dict[int, str] = {}
    try:
        with connect(client, scheduler) as c:
            from distributed import as_completed  # lazy: optional

            _check_worker_env(c)
            design_f = c.scatter(design, broadcast=True, hash=False)
            chunks_f = c.scatter([fids[a:b] for a, b in bounds], hash=False)
            futures = c.map(_fit_chunk, chunks_f, design=design_f, options=model.options,
                            basis_names=tuple(model.basis.names), retries=retries, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            n_done = 0
            for fut in as_completed(futures):
                i = index[fut.key]
                if fut.status == "finished":
                    parts[i] = fut.result()
                else:
                    failures[i] = _reason(fut)
                n_done += bounds[i][1] - bounds[i][0]
                if tick is not None:
                    tick(n_done)
                fut.release()
    finally:
        close_bar()
    failed_chunks = [(bounds[i][0], bounds[i][1], failures[i]) for i in sorted(failures)]
    if failed_chunks and (on_error == "raise" or not parts):
        detail = "; ".join(f"spectra {a}-{b - 1}: {why}" for a, b, why in failed_chunks)
        raise MRSQuantError(f"{len(failed_chunks)} of {len(bounds)} chunks failed after {retries} retries: "
                            f"{detail}")
    template = parts[min(parts)]
    ordered = [parts[i] if i in parts else _nan_like(template, b - a) for i, (a, b) in enumerate(bounds)]
    for a, b, why in failed_chunks:
        print(f"mrsquant: warning: spectra {a}-{b - 1} failed after {retries} retries: {why}",
              file=sys.stderr)
    return assemble_result(model, design, fids, names, ordered, spectra, mismatch, failed_chunks)


def _reason(fut) -> str:
    try:
        exc = fut.exception()
    except BaseException as err:  # cancelled futures raise here
        exc = err
    return f"{type(exc).__name__}: {exc}"


def _nan_like(template: dict, n: int) -> dict:
    """Arrays shaped like one chunk's output with ``n`` rows of NaN (integers: -1)."""
    out = {}
    for k, v in template.items():
        shape = (n,) + v.shape[1:]
        fill = -1 if np.issubdtype(v.dtype, np.integer) else np.nan
        out[k] = np.full(shape, fill, v.dtype)
    return out
