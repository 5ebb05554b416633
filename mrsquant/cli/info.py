"""``mrsquant info FILE``: what a file holds."""
from __future__ import annotations

from pathlib import Path

#: Header fields shown when present (NIfTI-MRS names, as spec2nii fills them).
HEADER_FIELDS = ("Manufacturer", "ManufacturersModelName", "SoftwareVersions", "SequenceName",
                 "ProtocolName", "MixingTime", "InversionTime", "ExcitationFlipAngle",
                 "WaterSuppressed", "TxCoil", "RxCoil", "LCModelControlFile",
                 "TwixMeasurement", "PulseqNote")


def add_subparser(sub):
    p = sub.add_parser("info", help="show dimensions, frequency, dwell time, TE/TR of a file",
                       description="Print what mrsquant reads from an MRS file: the detected "
                                   "format, the dimensions, spectrometer frequency, dwell time, "
                                   "TE/TR and the scanner header fields.")
    p.add_argument("file", help="an MRS file (or vendor folder) in any supported format")
    p.set_defaults(func=run)


def _fmt_seconds_field(key: str, value) -> str:
    if key in ("MixingTime", "InversionTime") and isinstance(value, (int, float)):
        return f"{value * 1000:g} ms"
    if key == "ExcitationFlipAngle" and isinstance(value, (int, float)):
        return f"{value:g} deg"
    return str(value)


def describe(path: Path) -> str:
    from ..io import detect_format, load  # lazy: startup

    reader = detect_format(path)
    s = load(path)
    shape = " x ".join(f"{d}={n}" for d, n in zip(s.dims, s.shape)) or "single spectrum"
    fmt = reader.description
    conv = s.meta.get("ConversionMethod")
    if conv and str(conv).startswith("spec2nii"):
        fmt += f", via {conv}"
    source = s.meta.get("SourceFormat")
    if source and source not in fmt:
        fmt += f" (originally {source})"
    rows = [
        ("file", str(path)),
        ("format", fmt),
        ("dimensions", f"{shape}, {s.n_points} points"),
        ("nucleus", s.nucleus),
        ("frequency", f"{s.spectrometer_frequency_mhz:.6f} MHz ({s.field_t:.2f} T)"),
        ("dwell time", f"{s.dwelltime_s * 1e6:.3f} us (bandwidth {s.bandwidth_hz:.1f} Hz)"),
        ("TE", "unknown" if s.te_ms is None else f"{s.te_ms:g} ms"),
        ("TR", "unknown" if s.tr_ms is None else f"{s.tr_ms:g} ms"),
        ("ppm centre", f"{s.centre_ppm:g}"),
    ]
    for key in HEADER_FIELDS:
        value = s.meta.get(key)
        if value not in (None, "", []):
            if isinstance(value, dict) and "Value" in value:
                value = value["Value"]
            rows.append((key, _fmt_seconds_field(key, value)))
    if s.meta.get("AssumedParameters"):
        rows.append(("assumed", ", ".join(s.meta["AssumedParameters"])
                     + " (not in the file; defaults used, pass them explicitly or a sidecar)"))
    width = max(len(label) for label, _ in rows) + 2
    return "\n".join(f"{label + ':':<{width}}{value}" for label, value in rows)


def run(args) -> int:
    print(describe(Path(args.file)))
    return 0
