"""Every in-vivo (and phantom) scan in ../shared/data through the default fit (no truth: what a
new user gets): ratios to tCr, water-scaled tCr where a water reference exists, CRLBs
(residual-scaled and noise-only), status and its reasons.

Each file goes through ``mrsquant fit INPUT [--water REF] -o OUT`` in-process, without
``--basis``: the basis is simulated to match the file's header (sequence, TE, field, points,
bandwidth). A file the command refuses is listed with its one-line reason.

Healthy adult brain ranges (issue 20): tNAA/tCr 1.1-1.9, tCho/tCr 0.15-0.35, mI/tCr 0.4-1.1,
Glu/tCr 0.8-1.6, Gln/tCr 0.1-0.6, GSH/tCr 0.1-0.4; tCr 5-12 mM. Values outside are marked ``*``.

Usage: python benchmarks/bench_invivo.py [--write]
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _docs import write_section

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
OSP = DATA / "osprey_examples/exampledata/sdat"
MM = OSP / "UnEdited_with_MM_data"
TQ = DATA / "vendor_raw/tarquin/data"

#: (label, input, water reference or None, what it is)
CASES = [
    ("Osprey sub-01", OSP / "UnEdited/sub-01/ses-01/mrs/sub-01_ses-01_press/sub-01_PRESS_35_act.sdat",
     OSP / "UnEdited/sub-01/ses-01/mrs/sub-01_ses-01_press-ref/sub-01_PRESS_35_ref.sdat", "3T Philips PRESS TE 35"),
    ("Osprey sub-02", OSP / "UnEdited/sub-02/ses-01/mrs/sub-02_ses-01_press/sub-02_PRESS_35_act.sdat",
     OSP / "UnEdited/sub-02/ses-01/mrs/sub-02_ses-01_press-ref/sub-02_PRESS_35_ref.sdat", "3T Philips PRESS TE 35"),
    ("Osprey MM-set sub-01", MM / "sub-01/ses-01/mrs/sub-01_ses-01_press/sub-01_ses-01_PRESS_raw-act_noID.SDAT",
     MM / "sub-01/ses-01/mrs/sub-01_ses-01_press_ref/sub-01_ses-01_PRESS_raw-ref_noID.SDAT",
     "3T Philips PRESS, metabolite data of the MM set"),
    ("Osprey MM-set sub-02", MM / "sub-02/ses-01/mrs/sub-02_ses-01_press/sub-02_ses-01_PRESS_raw-act_noID.SDAT",
     MM / "sub-02/ses-01/mrs/sub-02_ses-01_press_ref/sub-02_ses-01_PRESS_raw-ref_noID.SDAT",
     "3T Philips PRESS, metabolite data of the MM set"),
    ("Osprey MM-set sub-01 nulled",
     MM / "sub-01/ses-01/mrs/sub-01_ses-01_press-inverted/sub-01_ses-01_PRESS-Inverted_TI-600_raw-act_noID.SDAT",
     None, "metabolite-nulled (TI 600 ms): MM only, must be flagged"),
    ("spant Philips", DATA / "spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT",
     DATA / "spant_examples/inst/extdata/philips_spar_sdat_W.SDAT", "3T Philips PRESS TE 30"),
    ("suspect RDA", DATA / "suspect_examples/tests/test_data/siemens/SVS_30.rda", None, "3T Siemens svs_se TE 30"),
    ("suspect IMA", DATA / "suspect_examples/tests/test_data/siemens/SVS_30.IMA", None, "same scan as DICOM"),
    ("suspect XA60", DATA / "suspect_examples/tests/test_data/siemens/SVS_XA60.dcm", None,
     "3T phantom (ethanol-like), no NAA"),
    ("7T STEAM (4 coils x 16)", DATA / "nifti_mrs_examples/tests/test_data/metab_raw.nii.gz",
     DATA / "nifti_mrs_examples/tests/test_data/quant_raw.nii.gz",
     "7T Siemens STEAM TE 11, raw; water: quant_raw (FSL-MRS's quantification reference)"),
    ("7T STEAM, wref_raw water", DATA / "nifti_mrs_examples/tests/test_data/metab_raw.nii.gz",
     DATA / "nifti_mrs_examples/tests/test_data/wref_raw.nii.gz", "same data; water: wref_raw (FSL-MRS's ECC/coil reference)"),
    ("dcm_qa_spec XA60 (64 dyn)", DATA / "vendor_raw/dcm_qa_spec/In/30_svs_se", None, "7T Siemens svs_se TE 30"),
    ("dcm_qa_spec XA60 average", DATA / "vendor_raw/dcm_qa_spec/In/31_svs_se", None, "scanner's average of the 64"),
    ("tarquin Philips TE 30", TQ / "phillips/svs_30_WS.SDAT", TQ / "phillips/svs_30_ref.SDAT",
     "3T phantom, PRESS (the SPAR names no sequence: --sequence press)"),
    ("tarquin Philips TE 135", TQ / "phillips/svs_135_WS.SDAT", TQ / "phillips/svs_135_ref.SDAT",
     "3T phantom, PRESS (--sequence press)"),
    ("tarquin Siemens RDA", TQ / "siemens/example.rda", None, "1.5T phantom"),
    ("tarquin GE P-file", TQ / "ge/P1751_1.5T_030_2000.7", None, "1.5T phantom, PROBE-P"),
]

RATIOS = {"tNAA": (1.1, 1.9), "tCho": (0.15, 0.35), "mI": (0.4, 1.1), "Glu": (0.8, 1.6), "Gln": (0.1, 0.6),
          "GSH": (0.1, 0.4)}
TCR_MM = (5.0, 12.0)


def _tsv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _cell(value, rng=None, fmt="{:.2f}"):
    if value != value:      # NaN
        return ""
    text = fmt.format(value)
    return text + ("*" if rng and not rng[0] <= value <= rng[1] else "")


#: extra arguments where the header lacks something the default fit needs
EXTRA = {"tarquin Philips TE 30": ["--sequence", "press"], "tarquin Philips TE 135": ["--sequence", "press"]}


def run_case(label, inp, water, tmp):
    from mrsquant.cli import main

    out = Path(tmp) / label.replace(" ", "_").replace("(", "").replace(")", "")
    argv = ["fit", str(inp), "-o", str(out), "--quiet"] + (["--water", str(water)] if water else [])
    argv += EXTRA.get(label, [])
    err, std = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            rc = main(argv)
        except Exception as exc:    # a crash is a finding too
            rc, _ = -1, err.write(f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - t0
    if rc != 0:
        lines = [ln for ln in err.getvalue().splitlines() if "error" in ln.lower() or ln.startswith(("Type", "Key"))]
        return {"label": label, "error": (lines or err.getvalue().splitlines() or [f"exit {rc}"])[-1],
                "seconds": seconds}
    conc = {r["metabolite"]: r for r in _tsv(out / "concentrations.tsv")}
    qc = _tsv(out / "qc.tsv")[0]
    row = {"label": label, "seconds": seconds, "status": qc["status"], "reasons": qc.get("reasons", ""),
           "basis": next((ln.split(": ", 1)[1] for ln in err.getvalue().splitlines()
                          if ln.startswith("basis simulated")), "")}
    for m in RATIOS:
        row[m] = _num(conc.get(m, {}).get("ratio_tcr"))
    row["tCr_mm"] = _num(conc.get("tCr", {}).get("conc_mm"))
    for m in ("tNAA", "tCr", "Glu", "GABA"):
        row[f"crlb_{m}"] = _num(conc.get(m, {}).get("crlb_percent"))
        row[f"crlb0_{m}"] = _num(conc.get(m, {}).get("crlb_noise_percent"))
    return row


def table(rows) -> str:
    head = ("| scan | what | tNAA | tCho | mI | Glu | Gln | GSH | tCr mM | CRLB % tNAA / tCr / Glu / GABA "
            "(noise-only) | status: reasons |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['label']} | {r['what']} | | | | | | | | | refused: {r['error']} |")
            continue
        crlb = " / ".join(_cell(r[f"crlb_{m}"], fmt="{:.3g}") + (f" ({_cell(r[f'crlb0_{m}'], fmt='{:.3g}')})"
                                                                   if r[f"crlb0_{m}"] == r[f"crlb0_{m}"] else "")
                          for m in ("tNAA", "tCr", "Glu", "GABA"))
        why = r["status"] + (f": {r['reasons']}" if r["reasons"] else "")
        lines.append(f"| {r['label']} | {r['what']} | " + " | ".join(_cell(r[m], RATIOS[m]) for m in RATIOS)
                     + f" | {_cell(r['tCr_mm'], TCR_MM, '{:.1f}')} | {crlb} | {why} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace the section in docs/benchmarks.md")
    args = ap.parse_args()
    import warnings
    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, inp, water, what in CASES:
            if not Path(inp).exists():
                rows.append({"label": label, "what": what, "error": f"{inp} not found", "seconds": 0.0})
                continue
            r = run_case(label, inp, water, tmp)
            r["what"] = what
            rows.append(r)
            print(f"{label}: {r.get('status', r.get('error'))} ({r['seconds']:.1f} s)", flush=True)
    ok = sum(1 for r in rows if r.get("status") == "ok")
    flagged = sum(1 for r in rows if "status" in r and r["status"] != "ok")
    refused = sum(1 for r in rows if "error" in r)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""## In vivo: the default fit on every public scan (`benchmarks/bench_invivo.py`, {stamp})

No truth: what `mrsquant fit INPUT [--water REF] -o OUT` (no `--basis`: simulated to match the
header) gives on each in-vivo and phantom file in ../shared/data. Ratios to tCr; `*` marks a value
outside the healthy adult range (tNAA 1.1-1.9, tCho 0.15-0.35, mI 0.4-1.1, Glu 0.8-1.6,
Gln 0.1-0.6, GSH 0.1-0.4; tCr 5-12 mM). CRLB: the reported (residual-scaled) value, the noise-only
one in brackets. Status and reasons as in qc.tsv (docs/fit_outputs.md): a value outside the range
should come with a flag naming why. {ok} ok, {flagged} flagged, {refused} refused.
Python {platform.python_version()}, {platform.machine()}.

{table(rows)}
"""
    print(text)
    if args.write:
        write_section("invivo", text)


if __name__ == "__main__":
    main()
