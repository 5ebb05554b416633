"""LCModel-style ``.table``, ``.coord`` and ``.csv`` writers (the readers are in :mod:`.lcmodel`).

The layout copies LCModel 6.3's own files line for line (checked field by field against
``suspect_examples/.../svs_97.TABLE/.COORD/.CSV`` and ``mm_94T_lcmodel_outputs``), because the
parsers in the field depend on it:

* spant ``read_lcm_coord``: exactly four title lines before the ``NCONC+1`` line, rows in fixed
  columns (Conc. 9, %SD 5, ratio 8, one blank, name), FWHM and S/N as the 3rd and 7th
  blank-separated words of the line after the misc. header, ten numbers per line in every
  block, and a ``... lines in following diagnostic table:`` line after the last curve; count
  lines end without trailing blanks;
* MATLAB readers (``fscanf`` word counting): ``extrs.`` just before the NY line, the exact
  wording of the four block labels, ``HZPPPM = value`` in the input-changes table;
* FID-A / Osprey ``.table`` readers: the ``$$CONC``, ``$$MISC``, ``$$DIAG``, ``$$INPU`` sections.

Number formats (LCModel's): Conc. ``F9.3`` when 0 or 0.1 <= |x| < 1000, else ``1PE9.2``;
ratio ``F8.3`` / ``1PE8.1`` on the same rule; %SD an integer capped at 999 (999 also when
undetermined); ppm axis ``F13.6``; curves ``1PE13.5``; curve labels ``name Conc. = 1PE9.2``.
In ``.csv`` names are cut to 13 characters, as LCModel does.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_path
from .lcmodel import LCModelCoord, LCModelTable

ROW_WIDTH = 75          # LCModel pads table rows to this width
CSV_NAME_WIDTH = 13     # LCModel cuts names in the .csv header to this length
PER_LINE = 10           # numbers per line in the .coord blocks


def _fixed_or_e(x: float, width: int, e_digits: int) -> str:
    x = float(x) if np.isfinite(x) else 0.0
    if x == 0 or 0.1 <= abs(x) < 1000:
        return f"{x:{width}.3f}"
    return f"{x:{width}.{e_digits}E}"


def conc_text(x: float) -> str:
    """LCModel's Conc. field: ``'    0.115'``, ``' 2.88E-02'``."""
    return _fixed_or_e(x, 9, 2)


def ratio_text(x: float) -> str:
    """LCModel's ratio field: ``'   0.115'``, ``' 5.5E-02'``."""
    return _fixed_or_e(x, 8, 1)


def sd_value(sd_percent: float) -> int:
    """%SD as LCModel prints it: a rounded integer, 999 when above 999 or undetermined."""
    if not np.isfinite(sd_percent) or sd_percent > 999:
        return 999
    return int(round(max(float(sd_percent), 0.0)))


def _ratio_header(ratio_to: str) -> str:
    label = "/" + ratio_to
    pad = max(8 - len(label), 0)
    left = (pad + 1) // 2
    return " " * left + label + " " * (pad - left)


def _title(version: str, spectrum_id: str, data_of: str, when: _dt.datetime | None, *, coord=False):
    when = when or _dt.datetime.now(_dt.timezone.utc)
    first = f" LCModel-format output of {version}"
    if coord:
        first += " (layout: LCModel 6.3, S.W. Provencher, Magn. Reson. Med. 30:672-679 (1993))"
    return [first, f" {spectrum_id}", f" Data of: {data_of}",
            f" {when.day:02d}-{when.strftime('%B')}-{when.year}  {when.strftime('%H:%M')}"]


def _conc_rows(table: LCModelTable) -> list[str]:
    head = f"    Conc.  %SD{_ratio_header(table.ratio_to)}  Metabolite"
    rows = [head.ljust(ROW_WIDTH)]
    for name, c, sd, r in zip(table.metabolites, table.conc, table.sd_percent, table.ratio):
        rows.append(f"{conc_text(c)}{sd_value(sd):4d}%{ratio_text(r)} {name}".ljust(ROW_WIDTH))
    return rows


def _misc_rows(table: LCModelTable, knots: int) -> list[str]:
    fwhm = table.fwhm_ppm if table.fwhm_ppm is not None and np.isfinite(table.fwhm_ppm) else 0.0
    snr = table.snr if table.snr is not None and np.isfinite(table.snr) else 0.0
    shift = table.data_shift_ppm if table.data_shift_ppm is not None else 0.0
    p0, p1 = table.phase_deg if table.phase_deg is not None else (0.0, 0.0)
    rows = [f"  FWHM = {fwhm:.3f} ppm    S/N = {int(round(snr)):3d}",
            f"  Data shift = {shift:.3f} ppm",
            f"  Ph: {p0:3.0f} deg {p1:9.1f} deg/ppm",
            "  alphaB,S = 0.0E+00,   0.0E+00",      # LCModel's regularisers: not part of this model
            f"  {knots:3d} spline knots.   Ns = 0(0)",
            "  ( 0) 0 infls.   ( 0) 0 extrs."]
    return [r.ljust(ROW_WIDTH) for r in rows]


def _input_rows(inputs: dict) -> list[str]:
    rows = []
    for key, v in inputs.items():
        if isinstance(v, str):
            text = "'" + v.replace("'", "''") + "'"
        elif isinstance(v, (int, np.integer)):
            text = str(int(v))
        else:
            text = f"{float(v):.6g}"
        rows.append(f" {key} = {text}".ljust(ROW_WIDTH))
    return rows


def _diag_rows(diagnostics) -> list[str]:
    return [f"   1 warning   {d}".ljust(ROW_WIDTH) for d in diagnostics]


def format_table(table: LCModelTable, *, spectrum_id: str, data_of: str = "", version: str = "mrsquant",
                 diagnostics=(), knots: int = 0, when=None) -> str:
    """The text of an LCModel ``.table`` for ``table`` (``table.inputs`` becomes ``$$INPU``)."""
    conc = _conc_rows(table)
    misc = _misc_rows(table, knots)
    diag = _diag_rows(diagnostics)
    inpu = _input_rows(table.inputs)
    lines = _title(version, spectrum_id, data_of, when)
    lines += ["", f"$$CONC{len(conc):3d} lines in following concentration table = NCONC+1", *conc,
              "", f"$$MISC{len(misc):3d} lines in following misc. output table", *misc,
              "", f"$$DIAG{len(diag):3d} lines in following diagnostic table:", *diag,
              "", f"$$INPU{len(inpu):3d} lines in following table of input changes:", *inpu]
    return "\n".join(lines) + "\n"


def _block(values, fmt: str) -> list[str]:
    values = np.asarray(values, dtype=float)
    return [" " + "".join(format(v, fmt) for v in values[i:i + PER_LINE])
            for i in range(0, values.size, PER_LINE)]


def format_coord(coord: LCModelCoord, *, spectrum_id: str, data_of: str = "", version: str = "mrsquant",
                 diagnostics=(), knots: int = 0, when=None, component_conc: dict | None = None) -> str:
    """The text of an LCModel ``.coord``: the ``.table`` head, the ppm axis (decreasing), the
    phased data, the fit (with baseline), the baseline and one curve per component (its
    contribution plus the baseline, as LCModel writes them), then diagnostics and inputs.

    ``component_conc`` gives the number printed on each curve's label (default: its row in
    ``coord.table``)."""
    table = coord.table
    ny = coord.ppm.size
    for label, arr in (("data", coord.data), ("fit", coord.fit), ("baseline", coord.baseline),
                       *coord.components.items()):
        if np.asarray(arr).size != ny:
            raise ValueError(f"{label}: {np.asarray(arr).size} values for {ny} ppm points")
    conc_of = dict(zip(table.metabolites, table.conc))
    conc_of.update(component_conc or {})
    conc = _conc_rows(table)
    misc = _misc_rows(table, knots)
    diag = _diag_rows(diagnostics)
    inpu = _input_rows(table.inputs)
    lines = _title(version, spectrum_id, data_of, when, coord=True)
    lines += [f"{len(conc):3d} lines in following concentration table = NCONC+1", *conc,
              f" {len(misc):3d} lines in following misc. output table", *misc,
              f" {ny:4d} points on ppm-axis = NY", *_block(coord.ppm, "13.6f"),
              " NY phased data points follow", *_block(coord.data, "13.5E"),
              " NY points of the fit to the data follow", *_block(coord.fit, "13.5E"),
              " NY background values follow", *_block(coord.baseline, "13.5E")]
    for name, curve in coord.components.items():
        lines += [f" {name:<8} Conc. = {float(conc_of.get(name, 0.0)):.2E}", *_block(curve, "13.5E")]
    lines += [f" {len(diag):3d} lines in following diagnostic table:", *diag,
              f" {len(inpu):3d} lines in following table of input changes:", *inpu]
    return "\n".join(lines) + "\n"


def format_csv(tables, *, positions=None) -> str:
    """LCModel's ``.csv``: ``Row, Col, NAME, NAME %SD, NAME/REF, ...`` and one line per table
    (voxel), all with the metabolites of the first. ``positions``: (row, col) per table
    (default 1, 1 ... n, 1)."""
    tables = list(tables)
    if not tables:
        raise ValueError("no table to write")
    first = tables[0]
    names = [n[:CSV_NAME_WIDTH] for n in first.metabolites]
    head = ["Row", " Col"]
    for n in names:
        head += [f" {n}", f" {n} %SD", f" {n}/{first.ratio_to}"]
    lines = [",".join(head)]
    for k, t in enumerate(tables):
        row, col = positions[k] if positions is not None else (k + 1, 1)
        if list(t.metabolites) != list(first.metabolites):
            raise ValueError("every table of one .csv needs the same metabolites")
        fields = [f"{row:3d}", f"{col:4d}"]
        for c, sd, r in zip(t.conc, t.sd_percent, t.ratio):
            fields += [conc_text(c), f"{sd_value(sd):5d}", f"{ratio_text(r):>9}"]
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def read_lcmodel_csv(path) -> dict[str, dict[str, float]]:
    """Read an LCModel ``.csv`` (first data line): ``{name: {conc, sd_percent, ratio}}``.

    The ratio column's name gives the reference (``NAME/REF``); names are as cut by LCModel."""
    path = Path(path)
    text = path.read_text(encoding="latin-1").splitlines()
    if len(text) < 2 or not text[0].startswith("Row"):
        raise InputError(f"{path}: no 'Row, Col, ...' header (not an LCModel .csv)")
    head = [h.strip() for h in text[0].split(",")]
    vals = [v.strip() for v in text[1].split(",")]
    out = {}
    for i in range(2, len(head) - 2, 3):
        out[head[i]] = {"conc": float(vals[i]), "sd_percent": float(vals[i + 1]), "ratio": float(vals[i + 2])}
    return out


def _write(path, text: str) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_lcmodel_table(table: LCModelTable, path, **kw) -> Path:
    """Write :func:`format_table` to ``path`` (atomically)."""
    return _write(path, format_table(table, **kw))


def write_lcmodel_coord(coord: LCModelCoord, path, **kw) -> Path:
    """Write :func:`format_coord` to ``path`` (atomically)."""
    return _write(path, format_coord(coord, **kw))


def write_lcmodel_csv(tables, path, **kw) -> Path:
    """Write :func:`format_csv` to ``path`` (atomically)."""
    return _write(path, format_csv(tables, **kw))
