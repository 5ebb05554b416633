"""Siemens TWIX raw data (``.dat``; VB, and VD/VE/XA multi-raid) through pyMapVBVD and spec2nii.

pyMapVBVD parses the file; spec2nii's ``process_twix`` (the function behind
``spec2nii twix -e image``) turns the ``image`` scan into NIfTI-MRS objects with
coils (``DIM_COIL``) and averages/repetitions (``DIM_DYN``) kept as dimensions,
TE/TR/frequency from the protocol and the voxel geometry as the affine. We call
both in-process and hand the nibabel image to :func:`mrsquant.io.vendor._to_spectra`
(no conjugation by us: spec2nii conjugates TWIX data into the NIfTI-MRS convention).

What this module adds:

* **Multi-raid files** (VD and later) hold several measurements, the adjustment
  scans first and the image scan last. We take the last, as ``spec2nii twix``
  does by default, and say so in ``meta['TwixMeasurement']`` (``mrsquant info``
  shows it); ``measurement=N`` (1-based) picks another.
* **Completeness.** A file that ends before its end-of-acquisition marker, or
  whose last readout does not fit in the file, is an :class:`InputError`
  ("truncated"), never a shorter spectrum. pyMapVBVD only warns in these cases.
* **Not spectroscopy** (an imaging TWIX) is refused with one line.
* **Pulseq.** The Pulseq interpreter writes placeholder TE/TR/dwell into the
  header. The dwell time is taken from the ``.seq`` file next to the ``.dat``
  (its ``[ADC]`` section: the readout actually played); TE and TR are left
  unknown. Without the ``.seq`` the file is refused rather than read with a
  wrong dwell time. Pulseq TWIX data come out of spec2nii mirrored (in the
  fat/water phantom of ``pulseq_tutorials`` every secondary line sits 3-4.7 ppm
  *above* water as spec2nii reads them, where fat must lie below), so this
  reader conjugates them once more; evidence in docs/file_formats.md.
"""
from __future__ import annotations

import contextlib
import io as _io
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..spectra import Spectra
from .text import _looks_numeric
from .vendor import SIEMENS_CENTRE_PPM, VendorReader, _first_line, _to_spectra

#: pyMapVBVD's warnings that mean the file ends early or is damaged.
_BROKEN = ("unexpected read error", "stopped prematurely", "may be corrupt", "unsupported",
           "could not read", "broken")

#: Raw-data keys of a twix object that carry spectra, in the order tried.
DATA_KEY = "image"


@contextlib.contextmanager
def _capture():
    """Collect warnings (pyMapVBVD reports truncation only as a warning); mute prints."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(_io.StringIO()), contextlib.redirect_stderr(_io.StringIO()):
            yield caught


def _broken_warning(caught) -> str | None:
    for w in caught:
        text = " ".join(str(w.message).split())
        if any(key in text.lower() for key in _BROKEN):
            return text
    return None


def _acquisition_bytes(obj) -> int:
    """Bytes of one readout of a pyMapVBVD data object (MDH + all channels)."""
    n_col, n_cha = int(obj.NCol), int(obj.NCha)
    if obj.softwareVersion == "vb":  # one 128-byte MDH per channel
        return n_cha * (128 + 8 * n_col)
    return 192 + n_cha * (32 + 8 * n_col)  # VD/VE/XA: scan header + channel headers


_ACQEND, _SYNCDATA = 1 << 0, 1 << 5


def check_complete(path: Path, twix) -> None:
    """Every readout the MDHs announce must lie inside the file, followed by the
    end-of-acquisition header (ACQEND). Bytes after that header are padding."""
    size = path.stat().st_size
    end, version = 0, "vb"
    for key in twix.keys():
        if key == "hdr":
            continue
        obj = twix[key]
        pos = np.asarray(getattr(obj, "memPos", []), dtype=float)
        if pos.size == 0:
            continue
        last = int(pos.max()) + _acquisition_bytes(obj)
        if last > size:
            raise InputError(f"{path}: truncated Siemens TWIX file: its last '{key}' readout ends at "
                             f"byte {last} but the file has {size} bytes")
        if last > end:
            end, version = last, obj.softwareVersion
    if end == 0:
        return
    mask_at = 20 if version == "vb" else 40  # evalInfoMask; VD headers have 20 more bytes before it
    with open(path, "rb") as fh:
        for _ in range(10_000):  # sync blocks (e.g. physiology) may come before ACQEND
            fh.seek(end)
            mdh = fh.read(mask_at + 8)
            if len(mdh) < mask_at + 8:
                raise InputError(f"{path}: truncated Siemens TWIX file: it ends at byte {size}, "
                                 f"before the end-of-acquisition block")
            mask = int.from_bytes(mdh[mask_at:mask_at + 8], "little")
            length = int.from_bytes(mdh[0:4], "little") & 0x1FFFFFF
            if mask & _ACQEND:
                # its declared length is not always written out (the Pulseq VB19 files keep
                # 256 of 8192 bytes); the header itself must be there
                header = 128 if version == "vb" else 192
                if end + header > size:
                    raise InputError(f"{path}: truncated Siemens TWIX file: the end-of-acquisition "
                                     f"header is cut ({size} bytes)")
                return
            if not mask & _SYNCDATA or length == 0:
                return  # something we do not know how to step over: leave it to pyMapVBVD
            end += length


def _open(path: Path):
    from mapvbvd import mapVBVD  # lazy: optional

    with _capture() as caught:
        try:
            twix = mapVBVD(str(path), quiet=True)
        except Exception as exc:
            raise InputError(f"{path}: not a readable Siemens TWIX file "
                             f"(pyMapVBVD: {_first_line(exc)})") from exc
    problem = _broken_warning(caught)
    if problem:
        raise InputError(f"{path}: truncated or corrupt Siemens TWIX file (pyMapVBVD: {problem})")
    return twix


def _select(path: Path, twix, measurement: int | None):
    """The measurement to convert and a note saying which one it is."""
    if not isinstance(twix, list):
        return twix, None
    n = len(twix)
    if n == 0:
        raise InputError(f"{path}: Siemens TWIX file without measurements")
    k = n if measurement is None else int(measurement)
    if not 1 <= k <= n:
        raise InputError(f"{path}: measurement {k} asked for, the file holds {n}")
    what = "the image scan" if k == n else "chosen with measurement="
    note = f"measurement {k} of {n} ({what}; earlier measurements are adjustment scans)"
    return twix[k - 1], note


def _header(twix, *keys):
    try:
        return twix["hdr"]["MeasYaps"][keys]
    except (KeyError, TypeError):
        return None


def _sequence_file(twix) -> str:
    try:
        return str(twix["hdr"]["Meas"]["tSequenceFileName"])
    except (KeyError, TypeError):
        return ""


def is_pulseq(twix) -> bool:
    return "pulseq" in _sequence_file(twix).lower()


def pulseq_adc(seq: Path) -> tuple[int, float]:
    """(samples, dwell in s) of the ``[ADC]`` events of a Pulseq ``.seq`` file.

    Lines in ``[ADC]`` are ``id num dwell_ns delay_us freq phase``; all events must
    share one sample count and dwell time.
    """
    events, section = set(), None
    for line in seq.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
            continue
        if section == "[ADC]" and line and not line.startswith("#"):
            parts = line.split()
            events.add((int(parts[1]), float(parts[2]) * 1e-9))
    if len(events) != 1:
        raise InputError(f"{seq}: expected one kind of [ADC] event, found {len(events)}")
    return events.pop()


def _dim_tags(twix) -> dict:
    """spec2nii's dimension overrides: loops that spec2nii would call x/y/z in a
    single-voxel or FID scan (e.g. Pulseq's 'Lin' counter) become DIM_USER_n."""
    from spec2nii.Siemens.twixfunctions import defaults, id_sequence_type  # lazy: heavy

    tags = [None, None, None]
    if id_sequence_type(twix["hdr"]) == "mrsi":
        return {"dims": (None, None, None), "tags": tuple(tags)}
    obj = twix[DATA_KEY]
    table = defaults[obj.softwareVersion]
    user = 0
    for i, loop in enumerate(obj.sqzDims[1:4]):
        if table.get(loop) in ("x", "y", "z"):
            tags[i] = f"DIM_USER_{user}"
            user += 1
    return {"dims": (None, None, None), "tags": tuple(tags)}


def read_twix(path, *, measurement: int | None = None, remove_os: bool = False, **_) -> list[Spectra]:
    """Read the image scan of a Siemens TWIX ``.dat`` file.

    Parameters
    ----------
    path : str or Path
    measurement : int, optional
        1-based measurement of a multi-raid (VD/VE/XA) file; default the last
        (the image scan).
    remove_os : bool
        Remove the 2x readout oversampling (spec2nii ``--remove_os``); default
        False, as ``spec2nii twix``.

    Returns
    -------
    list of Spectra
        What spec2nii makes of the scan (usually one; more for special-cased
        sequences such as XA product sequences with an embedded reference).
    """
    from spec2nii.Siemens.twixfunctions import process_twix  # lazy: heavy

    path = Path(path)
    twix, note = _select(path, _open(path), measurement)
    where = f" ({note})" if note else ""
    if DATA_KEY not in twix.keys():
        raise InputError(f"{path}: Siemens TWIX file without '{DATA_KEY}' data{where}")
    pulseq = is_pulseq(twix)
    if not pulseq and _header(twix, "sSpecPara", "lVectorSize") is None:
        seq = _sequence_file(twix).split("\\")[-1] or "unknown"
        raise InputError(f"{path}: a Siemens TWIX file but not spectroscopy (sequence '{seq}' has "
                         f"no spectroscopy header sSpecPara.lVectorSize){where}")
    check_complete(path, twix)
    seq_file = None
    if pulseq:
        seq_file = path.with_suffix(".seq")
        if not seq_file.is_file():
            raise InputError(f"{path}: Pulseq TWIX: the header's TE/TR/dwell time are interpreter "
                             f"placeholders; put the sequence's .seq file next to it "
                             f"({seq_file.name})")
    with _capture() as caught:
        try:
            objs, names = process_twix(twix, None, path.name, DATA_KEY, _dim_tags(twix),
                                       quiet=True, verbose=False, remove_os=remove_os)
        except Exception as exc:
            raise InputError(f"{path}: cannot read as Siemens TWIX: {_first_line(exc)}{where}") from exc
    problem = _broken_warning(caught)
    if problem:
        raise InputError(f"{path}: truncated or corrupt Siemens TWIX file (pyMapVBVD: {problem})")
    if not objs:
        raise InputError(f"{path}: spec2nii found no spectroscopy data (Siemens TWIX){where}")
    base = str(names[0]) if names else ""
    out = []
    for i, obj in enumerate(objs):
        name = str(names[i]) if i < len(names) else ""
        suffix = "" if i == 0 else (name[len(base):] if name.startswith(base) and name != base
                                    else f"_{i + 1}")
        s = _to_spectra(obj, path, "Siemens TWIX", SIEMENS_CENTRE_PPM, suffix)
        meta = dict(s.meta)
        if note:
            meta["TwixMeasurement"] = note
        if seq_file is not None:
            s = _pulseq_fix(s, meta, seq_file, remove_os)
        else:
            s = s.replace(meta=meta)
        out.append(s)
    return out


def _pulseq_fix(s: Spectra, meta: dict, seq_file: Path, remove_os: bool) -> Spectra:
    n_adc, dwell = pulseq_adc(seq_file)
    n = s.n_points * (2 if remove_os else 1)
    if n != n_adc:
        raise InputError(f"{seq_file}: its [ADC] plays {n_adc} samples, the TWIX readout has {n}")
    if remove_os:
        dwell *= 2
    for key in ("EchoTime", "RepetitionTime"):
        meta.pop(key, None)
    meta["SpectralWidth"] = 1.0 / dwell
    meta["PulseqSequenceFile"] = seq_file.name
    meta["PulseqNote"] = ("TE, TR and dwell time in the TWIX header are Pulseq interpreter "
                          "placeholders; dwell time from the .seq [ADC], TE and TR unknown")
    meta["PulseqConjugated"] = True  # see the module docstring
    return s.replace(data=np.conj(s.data), dwelltime_s=dwell, te_ms=None, tr_ms=None, meta=meta)


def _is_text(head: bytes) -> bool:
    return _looks_numeric(head)


TWIX_READER = VendorReader(
    "Siemens TWIX", "Siemens TWIX raw data .dat, VB and VD/VE/XA (pyMapVBVD + spec2nii)",
    lambda p, h: p.suffix.lower() == ".dat" and p.is_file() and not _is_text(h), read_twix)

