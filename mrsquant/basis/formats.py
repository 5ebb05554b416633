"""Basis formats besides LCModel (``basis/lcmodel.py``).

- **text folder** (ISMRM fitting challenge): one 2-column text FID per metabolite.

- **mrsquant basis folder**: ``basis.json`` manifest plus one NIfTI-MRS file per
  metabolite (``<name>.nii.gz``, complex64). See docs/basis.md.
- **FSL-MRS JSON folder**: one JSON per metabolite, ``{"basis": {"basis_re",
  "basis_im", "basis_dwell", "basis_centre", "basis_width", "basis_name"}, "meta": {...}}``.
- **jMRUI text**: one ``jMRUI Data Textfile`` with one or more signals, or a
  folder of them (one metabolite per file).

Readers of formats whose sign convention is not fixed by a standard (FSL-MRS
JSON, jMRUI) take ``conjugate='auto'``: the FIDs are conjugated when most of the
signal sits at the mirror image of 0.2-4.2 ppm about the centre, i.e. where no
brain metabolite resonates (docs/conventions.md).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .. import axes
from ..errors import InputError
from ..files import atomic_folder, atomic_path
from ..io.nifti import read_nifti_mrs, write_nifti_mrs
from ..spectra import Spectra
from .basis import Basis

MANIFEST = "basis.json"
FORMAT_VERSION = 1


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def _atomic_folder(path: Path, fill) -> None:
    """Create folder ``path`` by filling a temporary sibling, then renaming it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} exists and is not a folder")
    with atomic_folder(path) as tmp:
        fill(tmp)


def orient(fids: np.ndarray, dwelltime_s: float, f0_mhz: float,
           centre_ppm: float = axes.WATER_PPM) -> tuple[np.ndarray, bool]:
    """Conjugate FIDs that look mirrored (signal at ``2 centre - ppm``); returns (fids, flipped)."""
    n = fids.shape[-1]
    ppm = axes.ppm_axis(n, dwelltime_s, f0_mhz, centre_ppm)
    power = np.abs(axes.to_spectrum(fids)) ** 2
    direct = power[..., (ppm > 0.2) & (ppm < 4.2)].sum()
    mirror = power[..., (ppm > 2 * centre_ppm - 4.2) & (ppm < 2 * centre_ppm - 0.2)].sum()
    if mirror > direct:
        return np.conj(fids), True
    return fids, False


def _apply_conj(fids, conjugate, dwell, f0, centre):
    if conjugate == "auto":
        return orient(fids, dwell, f0, centre)
    if conjugate:
        return np.conj(fids), True
    return fids, False


# -- mrsquant folder -------------------------------------------------------------------------

def is_mrsquant_folder(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def write_mrsquant_folder(basis: Basis, path) -> None:
    """Write ``basis`` as a folder: ``basis.json`` + ``<name>.nii.gz`` per metabolite."""

    def fill(tmp: Path):
        files = []
        for i, name in enumerate(basis.names):
            fname = f"{_safe_name(name)}.nii.gz"
            sp = Spectra(data=basis.fids[i].astype(np.complex64), dwelltime_s=basis.dwelltime_s,
                         spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz,
                         te_ms=basis.te_ms, centre_ppm=basis.centre_ppm,
                         meta={"Basis": {"metabolite": name, "sequence": basis.sequence}})
            write_nifti_mrs(sp, tmp / fname)
            files.append(fname)
        manifest = {"format": "mrsquant-basis", "version": FORMAT_VERSION,
                    "names": list(basis.names), "files": files,
                    "dwelltime_s": basis.dwelltime_s, "n_points": basis.n_points,
                    "spectrometer_frequency_mhz": basis.spectrometer_frequency_mhz,
                    "te_ms": basis.te_ms, "sequence": basis.sequence,
                    "centre_ppm": basis.centre_ppm, "scaling": basis.scaling.tolist(),
                    "provenance": basis.provenance}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    _atomic_folder(Path(path), fill)


def read_manifest(path: Path, fmt: str, what: str, name: str = MANIFEST) -> dict:
    """The JSON manifest ``path/name`` of a basis folder, whose ``format`` must be ``fmt``."""
    try:
        man = json.loads((path / name).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path / name}: unreadable manifest ({exc})") from exc
    if man.get("format") != fmt:
        raise InputError(f"{path / name}: not an mrsquant {what} manifest")
    return man


def load_mrsquant_folder(path: Path, **_) -> Basis:
    man = read_manifest(path, "mrsquant-basis", "basis")
    fids = []
    for f in man["files"]:
        if not (path / f).is_file():
            raise InputError(f"{path}: manifest lists {f} but the file is missing")
        fids.append(np.asarray(read_nifti_mrs(path / f).data).reshape(-1))
    if len({len(x) for x in fids}) != 1:
        raise InputError(f"{path}: basis files have different lengths")
    return Basis(fids=np.array(fids), names=tuple(man["names"]), dwelltime_s=man["dwelltime_s"],
                 spectrometer_frequency_mhz=man["spectrometer_frequency_mhz"],
                 te_ms=man.get("te_ms"), sequence=man.get("sequence", "unknown"),
                 scaling=man.get("scaling"), centre_ppm=man.get("centre_ppm", axes.WATER_PPM),
                 provenance=dict(man.get("provenance") or {}, source=str(path),
                                 format="mrsquant basis folder"))


# -- FSL-MRS JSON folder ---------------------------------------------------------------------

def is_fsl_folder(path: Path) -> bool:
    if not path.is_dir() or (path / MANIFEST).exists():
        return False
    for f in sorted(path.glob("*.json"))[:1]:
        try:
            with open(f) as fh:
                head = fh.read(4096)
        except OSError:
            return False
        return '"basis"' in head or '"basis_re"' in head
    return False


def load_fsl_folder(path: Path, *, conjugate="auto", te_ms: float | None = None, **_) -> Basis:
    """FSL-MRS basis folder (one JSON per metabolite)."""
    fids, names, dwell, f0, widths, meta0 = [], [], set(), set(), [], {}
    for f in sorted(path.glob("*.json")):
        try:
            d = json.loads(f.read_text())
        except ValueError as exc:
            raise InputError(f"{f}: not valid JSON ({exc})") from exc
        b = d.get("basis", d)
        if "basis_re" not in b:
            raise InputError(f"{f}: no basis_re/basis_im (not an FSL-MRS basis file)")
        fid = np.asarray(b["basis_re"], float) + 1j * np.asarray(b["basis_im"], float)
        fids.append(fid)
        names.append(b.get("basis_name") or f.stem)
        dwell.add(round(float(b["basis_dwell"]), 12))
        f0.add(round(float(b["basis_centre"]), 6))
        widths.append(b.get("basis_width"))
        meta0 = meta0 or d.get("meta", {})
    if not fids:
        raise InputError(f"{path}: no FSL-MRS basis JSON files")
    if len(dwell) != 1 or len(f0) != 1 or len({len(x) for x in fids}) != 1:
        raise InputError(f"{path}: basis files disagree on dwell time, frequency or length")
    dwell, f0 = dwell.pop(), f0.pop()
    arr, flipped = _apply_conj(np.array(fids), conjugate, dwell, f0, axes.WATER_PPM)
    te = te_ms
    if te is None:
        for key in ("TE", "te", "EchoTime"):
            if key in meta0:
                te = float(meta0[key]) * (1000.0 if float(meta0[key]) < 1 else 1.0)
                break
    return Basis(fids=arr, names=tuple(names), dwelltime_s=dwell, spectrometer_frequency_mhz=f0,
                 te_ms=te, sequence=str(meta0.get("Sequence", meta0.get("sequence", "unknown"))),
                 provenance={"source": str(path), "format": "FSL-MRS JSON", "conjugated": flipped,
                             "basis_width_hz": widths})


def write_fsl_folder(basis: Basis, path, *, width_hz: float = 0.0) -> None:
    """Write an FSL-MRS basis folder (one ``<name>.json`` per metabolite)."""
    def fill(tmp: Path):
        for i, name in enumerate(basis.names):
            doc = {"basis": {"basis_re": basis.fids[i].real.tolist(),
                             "basis_im": basis.fids[i].imag.tolist(),
                             "basis_dwell": basis.dwelltime_s,
                             "basis_centre": basis.spectrometer_frequency_mhz,
                             "basis_width": width_hz, "basis_name": name},
                   "meta": {"TE": basis.te_ms, "Sequence": basis.sequence,
                            "written_by": "mrsquant"}}
            (tmp / f"{_safe_name(name)}.json").write_text(json.dumps(doc))
    _atomic_folder(Path(path), fill)


# -- jMRUI text -------------------------------------------------------------------------------

JMRUI_MAGIC = "jMRUI Data Textfile"


def _is_jmrui_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip().startswith(JMRUI_MAGIC.encode())
    except OSError:
        return False


def is_jmrui(path: Path) -> bool:
    if path.is_file():
        return _is_jmrui_file(path)
    return path.is_dir() and any(_is_jmrui_file(f) for f in sorted(path.glob("*.txt"))[:3])


def _read_jmrui_file(path: Path):
    lines = path.read_text(errors="replace").splitlines()
    hdr, start = {}, None
    for i, line in enumerate(lines):
        if line.startswith("Signal ") and " out of " in line:
            start = i
            break
        if ":" in line:
            k, v = line.split(":", 1)
            hdr[k.strip()] = v.strip()
    try:
        n = int(float(hdr["PointsInDataset"]))
        n_sets = int(float(hdr.get("DatasetsInFile", 1)))
        dwell = float(hdr["SamplingInterval"]) * 1e-3          # ms -> s
        f0 = float(hdr["TransmitterFrequency"]) * 1e-6         # Hz -> MHz
    except (KeyError, ValueError) as exc:
        raise InputError(f"{path}: jMRUI header lacks {exc}") from exc
    if start is None:
        raise InputError(f"{path}: no 'Signal 1 out of N' block")
    rows = [ln.split() for ln in lines[start:] if ln.strip() and not ln.startswith("Signal")]
    vals = np.array([[float(r[0]), float(r[1])] for r in rows])
    if vals.shape[0] != n * n_sets:
        raise InputError(f"{path}: expected {n * n_sets} points, found {vals.shape[0]}")
    fids = (vals[:, 0] + 1j * vals[:, 1]).reshape(n_sets, n)
    names = [s.strip().rsplit(".", 1)[0] for s in hdr.get("SignalNames", "").split(";") if s.strip()]
    if len(names) != n_sets:
        names = [path.stem] if n_sets == 1 else [f"{path.stem}_{k + 1}" for k in range(n_sets)]
    return fids, names, dwell, f0


def load_jmrui(path: Path, *, conjugate="auto", te_ms: float | None = None, **_) -> Basis:
    """jMRUI text basis: one multi-signal file or a folder of single-signal files."""
    files = [path] if path.is_file() else sorted(f for f in path.glob("*.txt") if _is_jmrui_file(f))
    fids, names, dwell, f0 = [], [], set(), set()
    for f in files:
        fd, nm, dw, fr = _read_jmrui_file(f)
        fids.append(fd)
        names += nm if path.is_file() else ([f.stem] if len(nm) == 1 else nm)
        dwell.add(round(dw, 12))
        f0.add(round(fr, 5))
    arr = np.concatenate(fids)
    if len(dwell) != 1 or len(f0) != 1:
        raise InputError(f"{path}: jMRUI files disagree on sampling interval or frequency")
    dwell, f0 = dwell.pop(), f0.pop()
    arr, flipped = _apply_conj(arr, conjugate, dwell, f0, axes.WATER_PPM)
    return Basis(fids=arr, names=tuple(names), dwelltime_s=dwell, spectrometer_frequency_mhz=f0,
                 te_ms=te_ms, provenance={"source": str(path), "format": "jMRUI text",
                                          "conjugated": flipped})


def write_jmrui(basis: Basis, path) -> None:
    """Write all entries into one jMRUI text file (``SignalNames`` lists the metabolites)."""
    path = Path(path)
    n = basis.n_points
    head = [JMRUI_MAGIC, "", f"Filename: {path.name}", "",
            f"PointsInDataset: {n}", f"DatasetsInFile: {len(basis.names)}",
            f"SamplingInterval: {basis.dwelltime_s * 1e3:.6E}", "ZeroOrderPhase: 0E0",
            "BeginTime: 0E0", f"TransmitterFrequency: {basis.spectrometer_frequency_mhz * 1e6:.6E}",
            f"MagneticField: {basis.spectrometer_frequency_mhz / 42.577478:.4E}",
            "TypeOfNucleus: 0E0", "NameOfPatient: mrsquant basis", "DateOfExperiment: ",
            "Spectrometer: ", f"AdditionalInfo: {basis.sequence} TE {basis.te_ms}",
            "SignalNames: " + ";".join(f"{nm}.txt" for nm in basis.names) + ";", "", "",
            "Signal and FFT", "sig(real)\tsig(imag)\tfft(real)\tfft(imag)"]
    out = ["\n".join(head)]
    spec = axes.to_spectrum(basis.fids)
    for k in range(len(basis.names)):
        out.append(f"Signal {k + 1} out of {len(basis.names)} in file")
        out.append("\n".join(f"{a.real:.8E}\t{a.imag:.8E}\t{b.real:.8E}\t{b.imag:.8E}"
                             for a, b in zip(basis.fids[k], spec[k])))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(out) + "\n")


# -- text folder (ISMRM fitting challenge: one 2-column file per metabolite) --

def is_text_folder(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.txt")) and not any(path.glob("*.json"))


def load_text_folder(path: Path, *, spectrometer_frequency_mhz: float = 123.2,
                     dwelltime_s: float = 1 / 4000.0, te_ms: float | None = 30.0,
                     sequence: str = "press", **_) -> Basis:
    """A folder of 2-column text FIDs, one file per metabolite (challenge layout).

    Text carries no header; the defaults are the challenge's acquisition
    (123.2 MHz, 4000 Hz, PRESS TE 30 ms) and can be overridden.
    """
    files = sorted(p for p in path.glob("*.txt") if p.stem.lower() not in ("readme", "licence", "license"))
    fids, names = [], []
    for f in files:
        arr = np.loadtxt(f, ndmin=2)
        if arr.shape[1] < 2:
            raise InputError(f"{f}: expected 2 columns (real, imaginary)")
        fids.append(arr[:, 0] + 1j * arr[:, 1])
        names.append(f.stem)
    lengths = {len(x) for x in fids}
    if len(lengths) != 1:
        raise InputError(f"{path}: basis files have different lengths {sorted(lengths)}")
    return Basis(fids=np.array(fids), names=tuple(names), dwelltime_s=dwelltime_s,
                 spectrometer_frequency_mhz=spectrometer_frequency_mhz, te_ms=te_ms,
                 sequence=sequence, provenance={"source": str(path), "format": "text folder"})



def wants_folder(path: Path) -> bool:
    """An output name without a file suffix asks for an mrsquant basis folder."""
    return path.suffix.lower() not in (".basis", ".txt", ".json", ".raw")


def wants_jmrui(path: Path) -> bool:
    return path.suffix.lower() == ".txt"


#: explicit writers by format name (``mrsquant basis convert --format``)
WRITERS = {"mrsquant": write_mrsquant_folder, "fsl": write_fsl_folder, "jmrui": write_jmrui}
