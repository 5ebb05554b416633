"""Bad files give one-line InputError/MetadataError, never a traceback from a library."""
import gzip
import shutil

import numpy as np
import pytest

from mrsquant.basis.io import load_basis
from mrsquant.errors import InputError, MetadataError, MRSQuantError
from mrsquant.io import load


def one_line(exc):
    msg = str(exc)
    assert msg and "\n" not in msg
    return msg


def copy_pair(src_dir, stem, dst_dir, new_stem="x"):
    for p in src_dir.iterdir():
        if p.stem == stem:
            shutil.copy(p, dst_dir / (new_stem + p.suffix))


@pytest.fixture
def spant(shared_data):
    return shared_data / "spant_examples/inst/extdata"


def test_empty_files(tmp_path):
    for name in ("a.nii.gz", "a.RAW", "a.SDAT", "a.rda", "a.txt", "a.dcm"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InputError, match="empty") as e:
            load(tmp_path / name)
        one_line(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "nothing.nii.gz")


def test_truncated_files(shared_data, spant, tmp_path):
    copy_pair(spant, "philips_spar_sdat_WS", tmp_path)
    sdat = tmp_path / "x.SDAT"
    sdat.write_bytes(sdat.read_bytes()[:5000])
    with pytest.raises(InputError, match="truncated") as e:
        load(sdat)
    one_line(e.value)

    nii = (shared_data / "nifti_mrs_examples/tests/test_data/metab.nii.gz").read_bytes()
    (tmp_path / "t.nii.gz").write_bytes(nii[: len(nii) // 2])
    with pytest.raises(InputError) as e:
        load(tmp_path / "t.nii.gz")
    one_line(e.value)

    raw = (shared_data / "fitting_challenge_2016/datasets_LCModel/dataset1.RAW").read_text()
    (tmp_path / "t.RAW").write_text(raw[: len(raw) // 2 + 7])  # cut inside a line
    with pytest.raises(InputError) as e:
        load(tmp_path / "t.RAW")
    one_line(e.value)
    (tmp_path / "h.RAW").write_text(raw[:40])  # cut inside the header
    with pytest.raises(InputError, match="END|NMID") as e:
        load(tmp_path / "h.RAW")

    basis = (shared_data / "lcmodel_test/test_lcm/3t.basis").read_text()
    (tmp_path / "t.basis").write_text(basis[: len(basis) - 500])
    with pytest.raises(InputError, match="truncated") as e:
        load_basis(tmp_path / "t.basis")
    one_line(e.value)

    rda = (shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda").read_bytes()
    (tmp_path / "t.rda").write_bytes(rda[:800])
    with pytest.raises(InputError) as e:
        load(tmp_path / "t.rda")
    one_line(e.value)


def test_wrong_extensions(shared_data, spant, tmp_path):
    nii = shared_data / "nifti_mrs_examples/tests/test_data/metab.nii.gz"
    shutil.copy(nii, tmp_path / "scan.rda")
    shutil.copy(nii, tmp_path / "scan.RAW")
    shutil.copy(spant / "philips_spar_sdat_WS.SDAT", tmp_path / "scan.nii.gz")
    shutil.copy(spant / "philips_spar_sdat_WS.SPAR", tmp_path / "scan.xyz")
    for name in ("scan.rda", "scan.RAW", "scan.nii.gz", "scan.xyz"):
        with pytest.raises(InputError) as e:
            load(tmp_path / name)
        one_line(e.value)
    # an SDAT without its SPAR
    shutil.copy(spant / "philips_spar_sdat_WS.SDAT", tmp_path / "alone.SDAT")
    with pytest.raises(InputError, match="SPAR") as e:
        load(tmp_path / "alone.SDAT")
    one_line(e.value)


def test_garbage(tmp_path):
    rng = np.random.default_rng(1)
    junk = rng.integers(0, 256, 20000, dtype=np.uint8).tobytes()
    for name in ("g.nii.gz", "g.nii", "g.dcm", "g.IMA", "g.RAW", "g.SDAT", "g.7", "g.mrui", "g.bin"):
        (tmp_path / name).write_bytes(junk)
    (tmp_path / "g.SPAR").write_text("not a spar\n")
    (tmp_path / "text.txt").write_text("hello world\nthis is text\n")
    (tmp_path / "g.gz.nii.gz").write_bytes(gzip.compress(junk))
    for p in sorted(tmp_path.iterdir()):
        if p.name == "g.SPAR":
            continue
        with pytest.raises(MRSQuantError) as e:
            load(p)
        one_line(e.value)


def test_impossible_metadata(shared_data, tmp_path):
    raw = (shared_data / "fitting_challenge_2016/datasets_LCModel/dataset1.RAW").read_text()
    # frequency written in Hz instead of MHz
    (tmp_path / "hz.RAW").write_text(" $SEQPAR\n HZPPPM = 123200000.\n $END\n" + raw)
    with pytest.raises(MetadataError, match="Hz") as e:
        load(tmp_path / "hz.RAW")
    one_line(e.value)
    # dwell time in ms written as seconds
    (tmp_path / "dw.RAW").write_text(" $SEQPAR\n dwellTime = 0.25\n $END\n" + raw)
    with pytest.raises(MetadataError, match="dwell") as e:
        load(tmp_path / "dw.RAW")
    one_line(e.value)
    # NIfTI-MRS with EchoTime in ms where the standard says seconds
    from mrsquant.io import save
    s = load(shared_data / "nifti_mrs_examples/tests/test_data/metab.nii.gz")
    meta = dict(s.meta)
    bad = s.replace(meta=meta, te_ms=None)
    out = save(bad, tmp_path / "te.nii.gz")
    import json

    import nibabel as nib
    img = nib.load(str(out))
    hdr = json.loads(img.header.extensions[0].get_content())
    hdr["EchoTime"] = 11.0  # ms written into a seconds field
    img.header.extensions.clear()
    img.header.extensions.append(nib.nifti1.Nifti1Extension(44, json.dumps(hdr).encode()))
    nib.save(nib.Nifti2Image(np.asarray(img.dataobj), img.affine, img.header), str(tmp_path / "te2.nii.gz"))
    with pytest.raises(MetadataError, match="seconds|milliseconds") as e:
        load(tmp_path / "te2.nii.gz")
    one_line(e.value)
