"""``mrsquant info FILE``: what a file holds."""
from __future__ import annotations

from pathlib import Path


def add_subparser(sub):
    p = sub.add_parser("info", help="show dimensions, frequency, dwell time, TE/TR of a file",
                       description="Print what mrsquant reads from an MRS file.")
    p.add_argument("file", help="an MRS file in any supported format")
    p.set_defaults(func=run)


def describe(path: Path) -> str:
    from ..io import detect_format, load

    reader = detect_format(path)
    s = load(path)
    shape = " x ".join(f"{d}={n}" for d, n in zip(s.dims, s.shape)) or "single spectrum"
    lines = [
        f"file:        {path}",
        f"format:      {reader.description}",
        f"dimensions:  {shape}, {s.n_points} points",
        f"nucleus:     {s.nucleus}",
        f"frequency:   {s.spectrometer_frequency_mhz:.6f} MHz ({s.field_t:.2f} T)",
        f"dwell time:  {s.dwelltime_s * 1e6:.3f} us (bandwidth {s.bandwidth_hz:.1f} Hz)",
        f"TE:          {'unknown' if s.te_ms is None else f'{s.te_ms:g} ms'}",
        f"TR:          {'unknown' if s.tr_ms is None else f'{s.tr_ms:g} ms'}",
        f"ppm centre:  {s.centre_ppm:g}",
    ]
    for key in ("Manufacturer", "SequenceName", "ProtocolName"):
        if key in s.meta:
            lines.append(f"{key + ':':<13}{s.meta[key]}")
    if s.meta.get("AssumedParameters"):
        lines.append("assumed:     " + ", ".join(s.meta["AssumedParameters"])
                     + " (not in the file; challenge defaults or pass a JSON sidecar)")
    return "\n".join(lines)


def run(args) -> int:
    print(describe(Path(args.file)))
    return 0
