"""One look for every report page: page size, fonts, the metabolite colour table, CRLB limits.

Colours are fixed per canonical metabolite name (``mrsquant.basis.names``), so NAA
has the same colour on every page, in every report. Names outside the table get a
colour from a stable hash of the name, never from their position in a basis set.
"""
from __future__ import annotations

import json
import math
import zlib

#: A4 portrait, inches
A4_PORTRAIT = (8.27, 11.69)
#: A4 landscape, inches
A4_LANDSCAPE = (11.69, 8.27)

#: matplotlib rcParams used while drawing reports
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 0.8,
    "pdf.fonttype": 3,  # Type 3 subsets: 2-3x faster to write than Type 42, text still extractable
    "pdf.compression": 6,
    "path.simplify": True,
}

DATA_COLOUR = "black"
FIT_COLOUR = "#d62728"
BASELINE_COLOUR = "#1f77b4"
RESIDUAL_COLOUR = "#7f7f7f"
FLAG_COLOUR = "#c00000"
STATUS_COLOURS = {"ok": "#2ca02c", "warning": "#d98c00", "failed": "#c00000"}

#: colour of each canonical metabolite (tab20 and friends, chosen so neighbours in a
#: stacked plot differ)
METABOLITE_COLOURS = {
    "NAA": "#1f77b4", "NAAG": "#6baed6", "tNAA": "#08519c",
    "Cr": "#2ca02c", "PCr": "#98df8a", "tCr": "#006d2c",
    "GPC": "#ff7f0e", "PCh": "#fdae6b", "tCho": "#a63603",
    "Glu": "#d62728", "Gln": "#ff9896", "Glx": "#a50f15",
    "GABA": "#9467bd", "GSH": "#8c564b", "Tau": "#e377c2", "mI": "#17becf",
    "sI": "#9edae5", "Lac": "#bcbd22", "Asp": "#c49c94", "Ala": "#dbdb8d",
    "PE": "#f7b6d2", "Asc": "#c5b0d5", "Glc": "#7b4173", "Gly": "#637939",
    "Cit": "#e7ba52", "Ace": "#ad494a", "Scy": "#9edae5", "bHB": "#843c39",
    "2HG": "#d6616b", "Ser": "#8ca252", "Thr": "#bd9e39", "Val": "#a55194",
    "EtOH": "#ce6dbd", "H2O": "#3182bd", "Mac": "#969696",
}
_FALLBACK = ("#393b79", "#5254a3", "#6b6ecf", "#637939", "#8ca252", "#b5cf6b", "#8c6d31",
             "#bd9e39", "#843c39", "#ad494a", "#7b4173", "#a55194", "#636363")


def metabolite_colour(name: str) -> str:
    """The colour of a metabolite on every page (macromolecules grey, lipids brown)."""
    if name in METABOLITE_COLOURS:
        return METABOLITE_COLOURS[name]
    if name.startswith("MM"):
        return "#7f7f7f" if int(zlib.crc32(name.encode())) % 2 else "#a0a0a0"
    if name.startswith("Lip"):
        return "#8c6d31" if int(zlib.crc32(name.encode())) % 2 else "#b08d57"
    return _FALLBACK[zlib.crc32(name.encode()) % len(_FALLBACK)]


def label_colour(name: str) -> str:
    """A darker shade of the metabolite colour, legible as text on white."""
    from matplotlib.colors import to_hex, to_rgb  # lazy: heavy

    r, g, b = to_rgb(metabolite_colour(name))
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    k = min(1.0, 0.45 / lum) if lum > 0.45 else 1.0
    return to_hex((r * k, g * k, b * k))


#: metabolites judged on relative CRLB (flagged above ``CRLB_LIMIT_PERCENT``)
MAIN_METABOLITES = ("NAA", "tNAA", "tCr", "tCho", "Glu", "Glx", "mI")
#: default relative CRLB limit for the main metabolites, percent
CRLB_LIMIT_PERCENT = 20.0
#: low-concentration metabolites (Kreis 2016): judged on the absolute CRLB; flagged when
#: the amplitude is below ``DETECTION_CRLB_MULTIPLE`` CRLBs (not distinguishable from 0)
DETECTION_CRLB_MULTIPLE = 2.0


def is_nuisance(name: str) -> bool:
    """Macromolecule, lipid and water components carry no CRLB flag."""
    return name in ("Mac", "H2O") or name.startswith(("MM", "Lip"))


def crlb_flag(name: str, amplitude: float, crlb_abs: float, crlb_percent: float, *,
              limit_percent: float = CRLB_LIMIT_PERCENT) -> bool:
    """True when a metabolite's CRLB is over its limit.

    Main metabolites (``MAIN_METABOLITES``): ``crlb_percent > limit_percent``.
    Other metabolites (low concentration, e.g. GABA, GSH, Gln; Kreis 2016 warns against
    rejecting them on relative CRLB): ``amplitude < 2 * crlb_abs``.
    Nuisance components (MM, lipids) and missing values are never flagged.
    """
    if is_nuisance(name):
        return False
    if name in MAIN_METABOLITES:
        return bool(math.isfinite(crlb_percent) and crlb_percent > limit_percent)
    if not (math.isfinite(amplitude) and math.isfinite(crlb_abs)):
        return False
    return bool(amplitude < DETECTION_CRLB_MULTIPLE * crlb_abs)


def format_value(x, digits: int = 6) -> str:
    """A number as concentrations.tsv / qc.tsv print it: ``digits`` significant digits
    (``%.6g``), empty for NaN."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return ""
    return f"{x:.{digits}g}"


def status_kind(status: str) -> str:
    """``ok``, ``failed`` or ``warning`` for a qc.tsv status string."""
    s = str(status).strip().lower()
    if s == "ok":
        return "ok"
    if s.startswith("failed") or "failed" in s.split(";")[0]:
        return "failed"
    return "warning"


def software_label(version) -> str:
    """``mrsquant X.Y.Z`` whether or not the stored attribute already says ``mrsquant``."""
    v = str(version or "").strip()
    return v if v.lower().startswith("mrsquant") else f"mrsquant {v or 'unknown version'}"


def basis_label(source) -> str:
    """Readable basis provenance from the ``basis_source`` attribute (JSON dict or text)."""

    if isinstance(source, (str, bytes)):
        try:
            source = json.loads(source)
        except ValueError:
            return str(source)
    if isinstance(source, dict):
        main = source.get("source") or source.get("path") or source.get("name") or ""
        extra = [str(source[k]) for k in ("format", "sequence") if source.get(k)]
        text = str(main) + (f" ({', '.join(extra)})" if extra else "")
        return text or ", ".join(f"{k}={v}" for k, v in source.items())
    return str(source)


#: ppm range drawn on the spectrum panels (left to right)
PPM_DISPLAY = (4.2, 0.2)


def display_mask(ppm):
    """Points of ``ppm`` inside the drawn range :data:`PPM_DISPLAY`. A ppm axis that restarts
    (an edited joint fit: sum and difference windows concatenated, docs/editing.md) shows its
    first window, the sum spectrum."""
    mask = (ppm <= PPM_DISPLAY[0]) & (ppm >= PPM_DISPLAY[1])
    rising = (ppm[1:] > ppm[:-1]).nonzero()[0]
    if rising.size:
        mask[rising[0] + 1:] = False
    return mask
