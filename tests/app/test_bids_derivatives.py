"""BIDS-derivatives tree next to the TSVs when the inputs have BIDS names; a validator-style check."""
import csv
import json
import re
from pathlib import Path

import pytest

import mrsquant as mq
from mrsquant.app.exports import BIDS_ENTITIES, bids_entities
from mrsquant.cli import main

_NAME = re.compile(r"^sub-(?P<sub>[A-Za-z0-9]+)(?:_ses-(?P<ses>[A-Za-z0-9]+))?"
                   r"(?:_(?:task|acq|nuc|voi|rec|run|echo|inv)-[A-Za-z0-9]+)*"
                   r"_desc-[A-Za-z0-9]+_(?:svs|mrsi|unloc|mrsref)\.(?:tsv|json)$")


def check_bids_derivative(root: Path) -> list[str]:
    """Problems a BIDS validator would report for a derivatives dataset (the rules we rely on)."""
    problems = []
    desc = root / "dataset_description.json"
    if not desc.is_file():
        return ["no dataset_description.json"]
    d = json.loads(desc.read_text())
    for key in ("Name", "BIDSVersion"):
        if not d.get(key):
            problems.append(f"dataset_description: no {key}")
    if d.get("DatasetType") != "derivative":
        problems.append("DatasetType is not 'derivative'")
    if not (isinstance(d.get("GeneratedBy"), list) and d["GeneratedBy"] and d["GeneratedBy"][0].get("Name")):
        problems.append("GeneratedBy must be a list of objects with Name")
    for f in root.rglob("*"):
        if f.is_dir() or f == desc:
            continue
        rel = f.relative_to(root).parts
        m = _NAME.match(f.name)
        if not m:
            problems.append(f"bad file name {f.name}")
            continue
        want = [f"sub-{m['sub']}"] + ([f"ses-{m['ses']}"] if m["ses"] else []) + ["mrs"]
        if list(rel[:-1]) != want:
            problems.append(f"{f.name} in {'/'.join(rel[:-1])}, expected {'/'.join(want)}")
        order = [p.split("-")[0] for p in f.name.split("_")[:-2]]
        if order != sorted(order, key=BIDS_ENTITIES.index):
            problems.append(f"{f.name}: entities out of order")
        if f.suffix == ".tsv":
            side = f.with_suffix(".json")
            if not side.is_file():
                problems.append(f"{f.name}: no JSON sidecar")
                continue
            meta = json.loads(side.read_text())
            with open(f) as fh:
                rows = list(csv.reader(fh, delimiter="\t"))
            for col in rows[0]:
                if not isinstance(meta.get(col), dict) or "Description" not in meta[col]:
                    problems.append(f"{f.name}: column {col} not described in the sidecar")
            if any(len(r) != len(rows[0]) for r in rows) or any(c == "" for r in rows for c in r):
                problems.append(f"{f.name}: ragged rows or empty cells (BIDS wants n/a)")
    return problems


def test_entities_from_names():
    assert bids_entities("sub-01_ses-pre_svs.nii.gz") == ({"sub": "01", "ses": "pre"}, "svs")
    assert bids_entities("x/sub-7_acq-press_run-2_svs.nii.gz") == ({"sub": "7", "acq": "press", "run": "2"}, "svs")
    assert bids_entities("sub-01_ses-01_PRESS_raw-act_noID.SDAT") == (
        {"sub": "01", "ses": "01", "acq": "PRESSrawactnoID"}, "svs")
    assert bids_entities("dataset1.txt") is None and bids_entities("subject01_svs.nii.gz") is None


@pytest.fixture(scope="module")
def bids_inputs(challenge, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bids")
    s = mq.load(challenge / "datasets_text" / "dataset1.txt")
    paths = [folder / "sub-01_ses-pre_svs.nii.gz", folder / "sub-01_ses-post_svs.nii.gz",
             folder / "sub-02_ses-pre_acq-press_svs.nii.gz"]
    for p in paths:
        mq.save(s, p)
    return paths


def test_tree_for_bids_named_inputs(challenge, bids_inputs, tmp_path):
    out = tmp_path / "out"
    assert main(["fit", *map(str, bids_inputs), "--basis", str(challenge / "basisset_text_noTMS"),
                 "-o", str(out), "--quiet"]) == 0
    root = out / "derivatives" / "mrsquant"
    assert check_bids_derivative(root) == []
    conc = root / "sub-02" / "ses-pre" / "mrs" / "sub-02_ses-pre_acq-press_desc-concentrations_svs.tsv"
    with open(conc) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    with open(out / "concentrations.tsv") as fh:
        top = [r for r in csv.DictReader(fh, delimiter="\t") if r["spectrum"] == "sub-02_ses-pre_acq-press_svs"]
    assert [r["amplitude"] for r in rows] == [r["amplitude"] for r in top] and len(rows) > 10
    assert all(r["conc_mm"] == "n/a" for r in rows)          # no water reference given
    assert sorted(p.name for p in (root / "sub-01").iterdir()) == ["ses-post", "ses-pre"]


def test_nothing_extra_without_bids_names(challenge, tmp_path):
    out = tmp_path / "out"
    assert main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet"]) == 0
    assert not (out / "derivatives").exists()


def test_osprey_example_names(shared_data, tmp_path):
    """Osprey's example data (sub-01/ses-01/mrs/..._PRESS_raw-act_noID.SDAT): sub and ses from the name."""
    base = shared_data / "osprey_examples" / "exampledata" / "sdat" / "UnEdited_with_MM_data"
    act = sorted(base.glob("sub-0[12]/ses-01/mrs/sub-0?_ses-01_press/*raw-act_noID.SDAT"))
    assert len(act) == 2
    out = tmp_path / "out"
    assert main(["fit", *map(str, act), "-o", str(out), "--quiet"]) == 0    # basis from the header
    root = out / "derivatives" / "mrsquant"
    assert check_bids_derivative(root) == []
    assert (root / "sub-02" / "ses-01" / "mrs" / "sub-02_ses-01_acq-PRESSrawactnoID_desc-qc_svs.tsv").is_file()
