"""LCModel files: ``.RAW``/``.H2O`` (read, write), ``.table`` and ``.coord`` outputs
(read, for comparisons), and the namelist parsing shared with the ``.BASIS``
reader/writer in :mod:`mrsquant.basis.lcmodel`.

Formats follow LCModel's manual (``lcmodel_test/.../manual.pdf``, sections
5.2, 8.6.7 and 12): Fortran namelists (``$NAME ... $END``) followed by
free-format numbers.

Conventions (evidence in docs/file_formats.md):

* ``.RAW``/``.H2O`` hold time-domain FIDs already in the NIfTI-MRS convention
  (NAA at 2.0 ppm without conjugation, fitting challenge and
  ``lcmodel_test/test_lcm/data.raw``), except when ``$NMID`` says
  ``BRUKER=T``: LCModel then conjugates, and so do we.
* A ``.RAW`` has no dwell time. It comes from, in order: keyword arguments, a
  ``dwellTime``/``DELTAT``/``BADELT`` entry in ``$SEQPAR``/``$NMID`` (FID-A and
  our writer put ``dwellTime`` in ``$SEQPAR``), the ``.H2O`` partner, an LCModel
  control file in the same folder whose ``FILRAW`` names this file, else the
  fitting challenge's acquisition (4000 Hz, 123.2 MHz), listed in
  ``meta['AssumedParameters']``.
* ``.BASIS`` stores each basis spectrum in the frequency domain, LCModel
  order: ``S = fft(fid_zero_filled) / sqrt(NDATAB)`` (index 0 = 0 Hz, no
  fftshift), shifted by ``ISHIFT`` points towards higher ppm. Hence
  ``fid = sqrt(NDATAB) * ifft(roll(S, -ISHIFT))``; the zero-filled second
  half is dropped when it is zero. Checked: the challenge ``press3T_30ms.BASIS``
  reproduces its ``.RAW`` FIDs (correlation 1.0000, same scale).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, MetadataError
from ..spectra import Spectra

#: Used when nothing in or next to a .RAW states the acquisition (challenge values).
RAW_DEFAULTS = {"spectrometer_frequency_mhz": 123.2, "dwelltime_s": 1 / 4000.0}

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[EeDd][-+]?\d+)?")
_GROUP_START = re.compile(r"[$&]([A-Za-z][A-Za-z0-9_]*)")


# -- Fortran namelists ---------------------------------------------------------------

@dataclass
class Namelist:
    """One ``$NAME ... $END`` group: its values and the text that follows it."""

    name: str
    values: dict = field(default_factory=dict)
    after: str = ""  # text between this group's end and the next group
    end: int = field(default=0, repr=False)  # offset just past $END in the source text

    def get(self, *keys, default=None):
        for k in keys:
            if k.upper() in self.values:
                return self.values[k.upper()]
        return default


_QUOTED = re.compile(r"'((?:''|[^'])*)('|$)")


def _mask_strings(text: str) -> str:
    """Replace characters inside '...' strings (a doubled '' is a quote inside the string; an
    unclosed string runs to the end) by '_', keeping offsets."""
    return _QUOTED.sub(lambda m: "'" + "_" * len(m.group(1)) + m.group(2), text)


def _parse_value(raw: str):
    raw = raw.strip().rstrip(",").strip()
    if raw == "":
        return None
    if raw.startswith("'"):
        m = re.match(r"'((?:[^']|'')*)'", raw)
        return m.group(1).replace("''", "'") if m else raw.strip("'")
    low = raw.lower()
    if low in ("t", ".true.", "true"):
        return True
    if low in ("f", ".false.", "false"):
        return False
    nums = _NUMBER.findall(raw)
    if not nums:
        return raw
    vals = []
    for n in nums:
        n = n.replace("D", "E").replace("d", "e")
        v = float(n)
        vals.append(int(v) if re.fullmatch(r"[-+]?\d+", n) else v)
    return vals[0] if len(vals) == 1 else vals


def parse_namelists(text: str) -> list[Namelist]:
    """All namelist groups in ``text``, in order, with the text after each.

    Handles ``$NAME``/``&NAME`` starts, ``$END``/``&END``/``/`` ends, quoted
    strings with doubled quotes, arrays, logicals and Fortran ``D`` exponents.
    """
    masked = _mask_strings(text)
    groups: list[Namelist] = []
    pos = 0
    while True:
        m = _GROUP_START.search(masked, pos)
        while m and m.group(1).upper() == "END":
            m = _GROUP_START.search(masked, m.end())
        if not m:
            break
        end = re.compile(r"[$&]END\b|(?<![\w.])/(?=\s|$)", re.I).search(masked, m.end())
        if not end:
            raise InputError(f"namelist ${m.group(1)} has no $END (truncated header)")
        body, mbody = text[m.end():end.start()], masked[m.end():end.start()]
        values = {}
        keys = list(re.finditer(r"([A-Za-z][A-Za-z0-9_]*(?:\([^)]*\))?)\s*=", mbody))
        for i, k in enumerate(keys):
            stop = keys[i + 1].start() if i + 1 < len(keys) else len(body)
            values[k.group(1).upper().replace(" ", "")] = _parse_value(body[k.end():stop])
        if groups:
            groups[-1].after = text[groups[-1].end:m.start()]
        groups.append(Namelist(m.group(1).upper(), values, end=end.end()))
        pos = end.end()
    if groups:
        groups[-1].after = text[groups[-1].end:]
    return groups


def _numbers(text: str) -> np.ndarray:
    return np.array([float(x.replace("D", "E").replace("d", "e")) for x in _NUMBER.findall(text)])


def complex_pairs(text: str, path, what: str) -> np.ndarray:
    vals = _numbers(text)
    if vals.size == 0:
        raise InputError(f"{path}: no {what} values after the header")
    if vals.size % 2:
        raise InputError(f"{path}: odd number of values ({vals.size}) in {what}: truncated file")
    return vals[0::2] + 1j * vals[1::2]


def check_fixed_width(text: str, fmt, path, what: str) -> None:
    """Detect a cut inside the last number of a fixed-format (``FMTDAT``) data block.

    When every full line has ``n`` fields of width ``w`` (``'(nEw.d)'``), the last
    line must consist of whole fields too; a shorter one means a truncated file.
    """
    m = re.fullmatch(r"\(\s*(\d*)\s*[EeDdFfGg](\d+)\.\d+\s*\)", str(fmt or "").strip())
    if not m:
        return
    per_line, width = int(m.group(1) or 1), int(m.group(2))
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2 or any(len(ln) != per_line * width for ln in lines[:-1]):
        return  # not written to the format (free-form numbers): nothing to check
    if len(lines[-1]) % width:
        raise InputError(f"{path}: last line of the {what} ends inside a number: truncated file")


def read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: binary content, not an LCModel text file")
    return raw.decode("latin-1")


def fortran_e(x: float, digits: int) -> str:
    """``x`` as a Fortran-readable E number with ``digits`` after the point."""
    return f"{x:.{digits}E}"


def namelist_value(v) -> str:
    """A namelist value."""
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


# -- control files ----------------------------------------------------------------

def read_control(path) -> dict:
    """The ``$LCMODL`` values of an LCModel control file (keys upper case)."""
    path = Path(path)
    for g in parse_namelists(read_text(path)):
        if g.name == "LCMODL":
            return g.values
    raise InputError(f"{path}: no $LCMODL namelist (not an LCModel control file)")


def _matching_control(raw_path: Path) -> dict | None:
    """A control file in the same folder whose FILRAW names ``raw_path``."""
    cands = [p for p in raw_path.parent.iterdir() if p.is_file() and (
        p.suffix.lower() in (".control", ".ctl", ".in") or p.name.lower() == "control.file")]
    for p in sorted(cands):
        try:
            vals = read_control(p)
        except InputError:
            continue
        filraw = str(vals.get("FILRAW", ""))
        if filraw and Path(filraw.replace("\\", "/")).name.lower() == raw_path.name.lower():
            vals = dict(vals)
            vals["_FILE"] = p.name
            return vals
    return None


# -- .RAW / .H2O ----------------------------------------------------------------------

def _raw_header(path: Path) -> tuple[dict, dict, str]:
    text = read_text(path)
    groups = parse_namelists(text)
    nmid = [g for g in groups if g.name == "NMID"]
    if not nmid:
        raise InputError(f"{path}: no $NMID namelist (not an LCModel .RAW file)")
    seqpar = next((g for g in groups if g.name == "SEQPAR"), Namelist("SEQPAR"))
    return seqpar.values, nmid[0].values, nmid[-1].after


def _dwell_from(values: dict) -> float | None:
    for key in ("DWELLTIME", "DELTAT", "BADELT"):
        if values.get(key) is not None:
            return float(values[key])
    for key in ("BANDWIDTH", "SW", "SPECTRALWIDTH"):
        if values.get(key):
            return 1.0 / float(values[key])
    return None


def f0_from(values: dict) -> float | None:
    for key in ("HZPPPM", "HZPPM"):  # HZPPM: a misspelling found in real files
        if values.get(key):
            return float(values[key])
    return None


def water_partner_path(path) -> Path | None:
    """The ``.H2O`` file (any case) next to a ``.RAW``, or None."""
    path = Path(path)
    want = (path.stem + ".h2o").lower()
    for cand in path.parent.iterdir():
        if cand.name.lower() == want and cand.is_file() and cand != path:
            return cand
    return None


def read_lcmodel_raw(path, *, dwelltime_s: float | None = None,
                     spectrometer_frequency_mhz: float | None = None,
                     te_ms: float | None = None, tr_ms: float | None = None,
                     control=None, _partner: bool = True, **_) -> Spectra:
    """Read an LCModel ``.RAW`` or ``.H2O`` file.

    Parameters
    ----------
    path : str or Path
    dwelltime_s, spectrometer_frequency_mhz, te_ms, tr_ms : float, optional
        Values that override (or supply) what the file does not say.
    control : str or Path, optional
        An LCModel control file to take DELTAT/HZPPPM/ECHOT from.

    Returns
    -------
    Spectra
        One FID (``dims == ()``), or ``("dyn",)`` when the file holds several
        voxels/FIDs of ``NUNFIL`` points (NUNFIL from the control file).
    """
    path = Path(path)
    seqpar, nmid, data_text = _raw_header(path)
    check_fixed_width(data_text, nmid.get("FMTDAT"), path, "FID")
    fid = complex_pairs(data_text, path, "FID")
    if nmid.get("BRUKER") is True:  # LCModel conjugates such data (manual, Sec 5.3)
        fid = fid.conj()
    ctl = read_control(control) if control is not None else _matching_control(path)
    partner, partner_points = _partner_header(path) if _partner else (None, None)
    sources = [vals for vals in ({**nmid, **seqpar}, partner, ctl) if vals]   # in order of precedence
    assumed = []

    def pick(kw, getter, default_key):
        if kw is not None:
            return float(kw)
        for vals in sources:
            v = getter(vals)
            if v is not None:
                return v
        assumed.append(default_key)
        return RAW_DEFAULTS[default_key]

    dwell = pick(dwelltime_s, _dwell_from, "dwelltime_s")
    f0 = pick(spectrometer_frequency_mhz, f0_from, "spectrometer_frequency_mhz")
    if te_ms is None:
        te_ms = next((float(v["ECHOT"]) for v in sources
                      if isinstance(v.get("ECHOT"), (int, float)) and float(v["ECHOT"]) >= 0), None)
    data, dims = _split_fids(path, fid, sources, partner_points)
    meta = _raw_meta(path, nmid, seqpar, ctl, control, assumed)
    return Spectra(data=data, dims=dims, dwelltime_s=dwell, spectrometer_frequency_mhz=f0,
                   te_ms=te_ms, tr_ms=tr_ms, meta=meta)


def _partner_header(path: Path):
    """``(header values, number of complex points)`` of a ``.RAW``'s ``.H2O`` partner, or ``(None, None)``."""
    if path.suffix.lower() == ".h2o":
        return None, None
    wp = water_partner_path(path)
    if wp is None:
        return None, None
    try:
        p_seq, p_nmid, p_text = _raw_header(wp)
    except InputError:
        return None, None
    return {**p_nmid, **p_seq}, len(_NUMBER.findall(p_text)) // 2


def _split_fids(path: Path, fid, sources, partner_points):
    """One FID, or ``(n, NUNFIL)`` FIDs (``("dyn",)``) when the header or control file says NUNFIL;
    a point count that fits neither NUNFIL nor the water partner is a truncated file."""
    n_expected = next((vals[key] for vals in sources for key in ("NUNFIL", "NUMBEROFPOINTS")
                       if isinstance(vals.get(key), int) and vals[key]), None)
    if n_expected is None and partner_points and partner_points != fid.size:
        raise InputError(f"{path}: {fid.size} complex points but its water file has {partner_points}: "
                         f"truncated or mismatched pair")
    if n_expected and fid.size != n_expected:
        if fid.size % n_expected:
            raise InputError(f"{path}: {fid.size} complex points but NUNFIL={n_expected}: "
                             f"truncated or mismatched file")
        return fid.reshape(-1, n_expected), ("dyn",)
    return fid, ()


def _raw_meta(path: Path, nmid, seqpar, ctl, control, assumed) -> dict:
    meta = {"OriginalFile": [path.name], "SourceFormat": "LCModel .RAW",
            "ConversionMethod": "mrsquant LCModel reader"}
    if isinstance(nmid.get("ID"), str) and nmid["ID"].strip():
        meta["LCModelID"] = nmid["ID"].strip()
    if isinstance(seqpar.get("SEQ"), str) and seqpar["SEQ"].strip():
        meta["SequenceName"] = seqpar["SEQ"].strip()
    for key in ("TRAMP", "VOLUME"):
        if nmid.get(key) is not None:
            meta[f"LCModel{key.title()}"] = nmid[key]
    if nmid.get("BRUKER") is True:
        meta["LCModelBruker"] = True
    if ctl:
        meta["LCModelControlFile"] = ctl.get("_FILE", str(control))
    if assumed:
        meta["AssumedParameters"] = assumed
    return meta


def water_partner(path) -> Spectra | None:
    """The ``.H2O`` water reference next to a ``.RAW`` (any case), or None.

    Metadata the ``.H2O`` lacks are taken from the ``.RAW`` itself.
    """
    wp = water_partner_path(path)
    if wp is None:
        return None
    main = read_lcmodel_raw(path)
    kw = {}
    seqpar, nmid, _ = _raw_header(wp)
    if _dwell_from({**nmid, **seqpar}) is None:
        kw["dwelltime_s"] = main.dwelltime_s
    if f0_from({**nmid, **seqpar}) is None:
        kw["spectrometer_frequency_mhz"] = main.spectrometer_frequency_mhz
    if seqpar.get("ECHOT") is None and main.te_ms is not None:
        kw["te_ms"] = main.te_ms
    w = read_lcmodel_raw(wp, _partner=False, **kw)
    if "AssumedParameters" in main.meta:
        meta = dict(w.meta)
        meta["AssumedParameters"] = main.meta["AssumedParameters"]
        w = w.replace(meta=meta)
    return w


def write_lcmodel_raw(spectra: Spectra, path, *, digits: int = 17, sequence: str | None = None,
                      **_) -> None:
    """Write one FID as an LCModel ``.RAW`` (or ``.H2O``).

    ``$SEQPAR`` carries ECHOT, HZPPPM, SEQ and, as FID-A does, ``dwellTime``
    (seconds) and ``NumberOfPoints``, so that our reader recovers every value.
    Data are written with ``digits`` digits after the point (17: lossless for
    float64). Multi-FID data are written one after another (LCModel's
    multi-voxel layout) only if ``spectra`` has a single ``dyn`` axis.
    """
    data = spectra.data
    if data.ndim > 2 or (data.ndim == 2 and spectra.dims != ("dyn",)):
        raise MetadataError(f"LCModel .RAW holds one FID (or a 'dyn' series); got dims {spectra.dims}: "
                            f"average or select first")
    path = Path(path)
    seq = sequence or str(spectra.meta.get("SequenceName", "")) or ""
    width = digits + 8
    lines = [" $SEQPAR",
             f" ECHOT = {namelist_value(float(spectra.te_ms) if spectra.te_ms is not None else -1.0)}",
             f" HZPPPM = {namelist_value(spectra.spectrometer_frequency_mhz)}",
             f" SEQ = {namelist_value(seq)}",
             f" dwellTime = {namelist_value(spectra.dwelltime_s)}",
             f" NumberOfPoints = {spectra.n_points}",
             " $END",
             " $NMID",
             f" ID = {namelist_value(str(spectra.meta.get('LCModelID', Path(path).stem))[:20])}",
             f" FMTDAT = '(2E{width}.{digits})'",
             f" VOLUME = {namelist_value(float(spectra.meta.get('LCModelVolume', 1.0)))}",
             f" TRAMP = {namelist_value(float(spectra.meta.get('LCModelTramp', 1.0)))}",
             " $END"]
    flat = data.reshape(-1)
    body = "\n".join(f"{fortran_e(z.real, digits):>{width}}{fortran_e(z.imag, digits):>{width}}"
                     for z in flat)
    Path(path).write_text("\n".join(lines) + "\n" + body + "\n")


# -- .table and .coord --------------------------------------------------------------------

@dataclass
class LCModelTable:
    """Contents of an LCModel ``.table`` (or the head of a ``.coord``)."""

    metabolites: list[str]
    conc: np.ndarray           # LCModel "Conc." column (institutional units or mM)
    sd_percent: np.ndarray     # %SD (Cramer-Rao), 999 when not determined
    ratio: np.ndarray          # ratio column (e.g. /Cr+PCr)
    ratio_to: str              # the denominator named in the column header
    fwhm_ppm: float | None = None
    snr: float | None = None
    data_shift_ppm: float | None = None
    phase_deg: tuple[float, float] | None = None
    inputs: dict = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {m: {"conc": float(c), "sd_percent": float(s), "ratio": float(r)}
                for m, c, s, r in zip(self.metabolites, self.conc, self.sd_percent, self.ratio)}


_CONC_ROW = re.compile(r"^\s*([-+0-9.Ee]+)\s+(\d+)%\s+([-+0-9.Ee]+)\s+(\S.*?)\s*$")


def _parse_conc_lines(lines, path) -> tuple[list, list, list, list, str]:
    names, conc, sd, ratio, ratio_to = [], [], [], [], ""
    for line in lines:
        if "Conc." in line and "%SD" in line:
            m = re.search(r"%SD\s+/(\S+)", line)
            ratio_to = m.group(1) if m else ""
            continue
        m = _CONC_ROW.match(line)
        if m:
            conc.append(float(m.group(1)))
            sd.append(float(m.group(2)))
            ratio.append(float(m.group(3)))
            names.append(m.group(4))
    if not names:
        raise InputError(f"{path}: no concentration table found")
    return names, conc, sd, ratio, ratio_to


def _parse_misc(lines) -> dict:
    out = {}
    for line in lines:
        m = re.search(r"FWHM\s*=\s*([-0-9.Ee+]+)\s*ppm", line)
        if m:
            out["fwhm_ppm"] = float(m.group(1))
        m = re.search(r"S/N\s*=\s*([-0-9.Ee+]+)", line)
        if m:
            out["snr"] = float(m.group(1))
        m = re.search(r"Data shift\s*=\s*([-0-9.Ee+]+)\s*ppm", line)
        if m:
            out["data_shift_ppm"] = float(m.group(1))
        m = re.search(r"Ph:\s*([-0-9.]+)\s*deg\s+([-0-9.]+)\s*deg/ppm", line)
        if m:
            out["phase_deg"] = (float(m.group(1)), float(m.group(2)))
    return out


def read_lcmodel_table(path) -> LCModelTable:
    """Read an LCModel ``.table`` file (concentrations, %SD, ratios, FWHM, S/N)."""
    path = Path(path)
    text = read_text(path)
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^\s*\$\$(\w+)", line)
        if m:
            current = m.group(1).upper()
            sections[current] = []
            continue
        if current:
            sections[current].append(line)
    if "CONC" not in sections:
        raise InputError(f"{path}: no $$CONC section (not an LCModel .table file)")
    names, conc, sd, ratio, ratio_to = _parse_conc_lines(sections["CONC"], path)
    inputs = {}
    if "INPU" in sections:
        joined = "\n".join(sections["INPU"])
        for m in re.finditer(r"^\s*(\w+(?:\(\d+(?:,\d+)*\))?)\s*=\s*([-+0-9.Ee]+)\s*$", joined, re.M):
            inputs[m.group(1).upper()] = float(m.group(2))
    return LCModelTable(metabolites=names, conc=np.array(conc), sd_percent=np.array(sd),
                        ratio=np.array(ratio), ratio_to=ratio_to, inputs=inputs,
                        **_parse_misc(sections.get("MISC", [])))


@dataclass
class LCModelCoord:
    """Contents of an LCModel ``.coord`` file: the fit on LCModel's ppm axis."""

    table: LCModelTable
    ppm: np.ndarray
    data: np.ndarray
    fit: np.ndarray
    baseline: np.ndarray
    components: dict[str, np.ndarray]   # per metabolite: its fitted curve (LCModel adds the baseline)


def read_lcmodel_coord(path) -> LCModelCoord:
    """Read an LCModel ``.coord`` file (ppm axis, phased data, fit, baseline, components)."""
    path = Path(path)
    lines = read_text(path).splitlines()
    ny_idx = next((i for i, l in enumerate(lines) if "points on ppm-axis = NY" in l), None)
    if ny_idx is None:
        raise InputError(f"{path}: no 'points on ppm-axis = NY' line (not an LCModel .coord file)")
    ny = int(lines[ny_idx].split()[0])
    head = lines[:ny_idx]
    names, conc, sd, ratio, ratio_to = _parse_conc_lines(head, path)
    table = LCModelTable(metabolites=names, conc=np.array(conc), sd_percent=np.array(sd),
                         ratio=np.array(ratio), ratio_to=ratio_to, **_parse_misc(head))
    # split the rest into labelled numeric blocks
    blocks: list[tuple[str, list[str]]] = [("ppm", [])]
    for line in lines[ny_idx + 1:]:
        if re.search(r"[A-DF-Za-df-z]", line):  # a label line (numbers only use E)
            blocks.append((line.strip(), []))
        else:
            blocks[-1][1].append(line)

    def values(label_lines, label) -> np.ndarray:
        v = _numbers(" ".join(label_lines))
        if v.size != ny:
            raise InputError(f"{path}: {label}: {v.size} values, expected NY={ny} (truncated file)")
        return v

    arrays, components = {}, {}
    for label, body in blocks:
        if label == "ppm":
            arrays["ppm"] = values(body, label)
        elif label.startswith("NY phased data"):
            arrays["data"] = values(body, label)
        elif label.startswith("NY points of the fit"):
            arrays["fit"] = values(body, label)
        elif label.startswith("NY background"):
            arrays["baseline"] = values(body, label)
        elif "Conc." in label:
            components[label.split()[0]] = values(body, label)
    missing = [k for k in ("ppm", "data", "fit", "baseline") if k not in arrays]
    if missing:
        raise InputError(f"{path}: .coord lacks {', '.join(missing)}")
    return LCModelCoord(table=table, components=components, **arrays)


# -- registry -------------------------------------------------------------------------------

class LCModelRawReader:
    name = "LCModel RAW"
    description = "LCModel .RAW / .H2O (namelist header + FID text)"

    @staticmethod
    def can_read(path: Path, head: bytes) -> bool:
        if path.suffix.lower() in (".raw", ".h2o"):
            return True
        return b"$NMID" in head.upper() and b"$BASIS1" not in head.upper()

    read = staticmethod(read_lcmodel_raw)


RAW_READER = LCModelRawReader()
