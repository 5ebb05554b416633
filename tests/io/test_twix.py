"""Siemens TWIX (.dat) on the files in ../shared/data/vendor_raw.

Truth, independent of the reader: the ASCCONV protocol text in each file's header
and its measurement data headers (parsed here with numpy, tests/io/helpers.py),
the played readout in the Pulseq ``.seq`` files, the vendor_raw README, and
spec2nii's own conversion of the same STEAM file as shipped by FSL-MRS
(``nifti_mrs_examples/.../wref_raw.nii.gz``, 4 of the 32 coils).
"""
import numpy as np
import pytest

from mrsquant.errors import InputError
from mrsquant.io import detect_format, load, read_all
from mrsquant.io import twix as twix_mod

from .helpers import MDH_PHASCOR, peak_ppm, seq_adc, twix_ascconv, vb_readouts

STEAM = "vendor_raw/pymapvbvd/tests/test_data/meas_MID311_STEAM_wref1_FID115674.dat"
PULSEQ = "vendor_raw/pulseq_tutorials/01_from_FID_to_PRESS/data"
PULSEQ_FILES = ["01_FID", "02_FID_MFA", "03_SE_noSpoil", "04_SE_BackgroundGrad", "05_SE_withSpoilers",
                "06_PRESS_center", "07_PRESS_offcenter"]
GRE = "vendor_raw/twixtools/example_data/gre.dat"


@pytest.fixture(scope="module")
def steam(shared_data):
    return load(shared_data / STEAM)


def test_vb17_steam_matches_its_header(shared_data, steam):
    path = shared_data / STEAM
    assert detect_format(path).name == "Siemens TWIX"
    # README: 2 repetitions x 32 channels x 4096 raw samples (2x oversampled), DIM_COIL, DIM_DYN
    assert steam.dims == ("coil", "dyn") and steam.shape == (32, 2) and steam.n_points == 4096
    assert steam.te_ms == float(twix_ascconv(path, "alTE[0]")) / 1000 == 11
    assert steam.tr_ms == float(twix_ascconv(path, "alTR[0]")) / 1000 == 5000
    assert steam.spectrometer_frequency_mhz == float(twix_ascconv(path, "sTXSPEC.asNucleusInfo[0].lFrequency")) / 1e6
    assert steam.spectrometer_frequency_mhz == pytest.approx(297.219948)
    assert steam.dwelltime_s == pytest.approx(float(twix_ascconv(path, "sRXSPEC.alDwellTime[0]")) * 1e-9)
    assert steam.meta["SoftwareVersions"] == "syngo MR B17"
    assert "TwixMeasurement" not in steam.meta  # VB: one measurement, nothing chosen


def test_vb17_steam_data_are_the_raw_readouts(shared_data, steam):
    # the image readouts in file order: repetition-major, 32 channels each; spec2nii conjugates
    image = [d for mask, d in vb_readouts(shared_data / STEAM) if not mask & MDH_PHASCOR]
    assert len(image) == 64
    for rep in range(2):
        for coil in (0, 17, 31):
            np.testing.assert_allclose(steam.data[coil, rep], np.conj(image[rep * 32 + coil]), rtol=1e-6)


def test_vb17_steam_equals_spec2nii_output_shipped_by_fsl_mrs(shared_data, steam):
    ref = load(shared_data / "nifti_mrs_examples/tests/test_data/wref_raw.nii.gz")
    assert ref.meta["OriginalFile"] == ["meas_MID311_STEAM_wref1_FID115674.dat"]
    # that file keeps 4 of the 32 coils (found by correlation: 18, 19, 28, 29)
    for k, coil in enumerate((18, 19, 28, 29)):
        np.testing.assert_allclose(steam.data[coil], ref.data[k], rtol=1e-5, atol=1e-12)
    assert ref.te_ms == steam.te_ms and ref.tr_ms == steam.tr_ms
    assert ref.spectrometer_frequency_mhz == steam.spectrometer_frequency_mhz
    np.testing.assert_allclose(steam.affine, ref.affine, atol=1e-4)


def test_vb17_steam_geometry(shared_data, steam):
    path = shared_data / STEAM
    sizes = np.linalg.norm(steam.affine[:3, :3], axis=0)
    voi = [float(twix_ascconv(path, f"sSpecPara.sVoI.{k}")) for k in ("dReadoutFOV", "dPhaseFOV", "dThickness")]
    np.testing.assert_allclose(sorted(sizes), sorted(voi), atol=1e-3)  # 20 x 20 x 20 mm
    # the voxel centre: NIfTI is RAS, the protocol's sPosition LPS (x and y change sign)
    pos = [float(twix_ascconv(path, f"sSpecPara.sVoI.sPosition.{k}")) for k in ("dSag", "dCor", "dTra")]
    np.testing.assert_allclose(steam.affine[:3, 3], [-pos[0], -pos[1], pos[2]], atol=1e-3)


def test_vb17_water_reference_is_water_at_4_7_ppm(steam):
    # a water-unsuppressed STEAM reference: the water line at the Siemens receiver centre
    assert steam.centre_ppm == 4.7
    args = (steam.dwelltime_s, steam.spectrometer_frequency_mhz, steam.centre_ppm)
    assert abs(peak_ppm(steam.data, *args, 0.0, 9.0) - 4.7) < 0.1


@pytest.mark.parametrize("name", PULSEQ_FILES)
def test_pulseq_vb19_dwell_from_the_played_seq(shared_data, name):
    path = shared_data / PULSEQ / f"{name}.dat"
    n_adc, dwell = seq_adc(path.with_suffix(".seq"))
    s = load(path)
    readouts = vb_readouts(path)
    assert s.n_points == n_adc
    assert s.dwelltime_s == pytest.approx(dwell)  # the header's 1e-05 s is a placeholder
    assert s.te_ms is None and s.tr_ms is None  # placeholders dropped, not trusted
    assert s.spectrometer_frequency_mhz == float(twix_ascconv(path, "sTXSPEC.asNucleusInfo[0].lFrequency")) / 1e6
    assert s.meta["SoftwareVersions"] == "syngo MR B19"
    if name == "02_FID_MFA":  # 9 flip angles on the 'Lin' counter
        assert s.shape == (9,) and s.dims == ("user_0",)
    else:
        assert s.shape == ()
    # data values: the raw samples (spec2nii conjugates, this reader conjugates back for Pulseq)
    flat = s.data.reshape(-1, s.n_points)
    assert len(readouts) == flat.shape[0]
    for k, (_, raw) in enumerate(readouts):
        np.testing.assert_allclose(flat[k], raw, rtol=1e-6)


def test_pulseq_fat_water_phantom_fat_below_water(shared_data):
    # README: a fat/water phantom, the off-centre PRESS voxel placed to take in both. Any fat
    # line lies below water (0.9-2.3 ppm); nothing in such a phantom resonates above it.
    s = load(shared_data / PULSEQ / "07_PRESS_offcenter.dat")
    spec = np.abs(np.fft.fftshift(np.fft.fft(s.data * np.exp(-np.pi * 3 * s.time))))
    water = s.ppm[np.argmax(spec)]
    below = spec[(s.ppm < water - 2.5) & (s.ppm > water - 5.0)].max()
    above = spec[(s.ppm > water + 2.5) & (s.ppm < water + 5.0)].max()
    assert below > 3 * above


def test_pulseq_without_its_seq_is_refused(shared_data, tmp_path):
    (tmp_path / "06.dat").write_bytes((shared_data / PULSEQ / "06_PRESS_center.dat").read_bytes())
    with pytest.raises(InputError, match="placeholders.*seq") as e:
        load(tmp_path / "06.dat")
    assert "\n" not in str(e.value)


def test_ve11_imaging_container_is_refused(shared_data):
    with pytest.raises(InputError, match="not spectroscopy") as e:
        load(shared_data / GRE)
    assert "'gre'" in str(e.value) and "\n" not in str(e.value)


def _two_raid(src: bytes) -> bytes:
    """A VD multi-raid file holding the single measurement of ``src`` twice."""
    header = bytearray(src[:10240])
    entry = bytearray(header[8:160])
    offset, length = (int(x) for x in np.frombuffer(bytes(entry[8:24]), "<u8"))
    second = offset + -(-length // 512) * 512
    entry[0:4] = (int.from_bytes(entry[0:4], "little") + 1).to_bytes(4, "little")
    entry[8:16] = second.to_bytes(8, "little")
    header[4:8] = (2).to_bytes(4, "little")
    header[160:312] = entry
    body = src[offset:offset + length]
    return bytes(header) + body + b"\0" * (second - offset - length) + body


def test_multiraid_file_picks_the_last_measurement_and_says_so(shared_data, tmp_path):
    path = tmp_path / "two.dat"
    path.write_bytes(_two_raid((shared_data / GRE).read_bytes()))
    with pytest.raises(InputError, match=r"measurement 2 of 2 \(the image scan") as e:
        load(path)  # both measurements are the GRE image: refused, naming the one chosen
    assert "not spectroscopy" in str(e.value)
    with pytest.raises(InputError, match="measurement 3 asked for, the file holds 2"):
        load(path, measurement=3)


def test_multiraid_choice_is_recorded(shared_data, monkeypatch):
    # pyMapVBVD returns a list for multi-raid files; stand in a real adjustment-like
    # first measurement (the GRE) before the real STEAM scan
    steam_path = shared_data / STEAM
    gre, steam = twix_mod._open(shared_data / GRE), twix_mod._open(steam_path)
    monkeypatch.setattr(twix_mod, "_open", lambda path: [gre, steam])
    s = load(steam_path)
    assert s.shape == (32, 2)
    assert s.meta["TwixMeasurement"].startswith("measurement 2 of 2 (the image scan")
    with pytest.raises(InputError, match="not spectroscopy.*measurement 1 of 2"):
        load(steam_path, measurement=1)


def test_convert_says_which_measurement(shared_data, monkeypatch, tmp_path, capsys):
    from mrsquant.cli import main

    steam_path = shared_data / STEAM
    gre, steam = twix_mod._open(shared_data / GRE), twix_mod._open(steam_path)
    monkeypatch.setattr(twix_mod, "_open", lambda path: [gre, steam])
    assert main(["convert", str(steam_path), "-o", str(tmp_path / "out")]) == 0
    assert "(measurement 2 of 2 (the image scan" in capsys.readouterr().out
    assert load(tmp_path / "out" / "meas_MID311_STEAM_wref1_FID115674.nii.gz").meta[
        "TwixMeasurement"].startswith("measurement 2 of 2")


def test_read_all_and_info_show_twix(shared_data, capsys):
    from mrsquant.cli import main

    assert len(read_all(shared_data / STEAM)) == 1
    assert main(["info", str(shared_data / STEAM)]) == 0
    rows = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    assert "Siemens TWIX" in rows["format"]
    assert rows["dimensions"].strip() == "coil=32 x dyn=2, 4096 points"
    assert rows["TE"].strip() == "11 ms" and rows["TR"].strip() == "5000 ms"


def test_convert_twix_round_trip(shared_data, steam, tmp_path, capsys):
    from mrsquant.cli import main

    src = [shared_data / STEAM, shared_data / PULSEQ / "06_PRESS_center.dat"]
    out = tmp_path / "out"
    assert main(["convert", *map(str, src), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["06_PRESS_center.nii.gz",
                                                       "meas_MID311_STEAM_wref1_FID115674.nii.gz"]
    back = load(out / "meas_MID311_STEAM_wref1_FID115674.nii.gz")
    assert np.array_equal(back.data, steam.data) and back.dims == steam.dims
    assert (back.te_ms, back.tr_ms, back.dwelltime_s, back.spectrometer_frequency_mhz, back.centre_ppm) == \
           (steam.te_ms, steam.tr_ms, steam.dwelltime_s, steam.spectrometer_frequency_mhz, steam.centre_ppm)
    np.testing.assert_allclose(back.affine, steam.affine, atol=1e-4)
    pulseq = load(out / "06_PRESS_center.nii.gz")
    assert pulseq.te_ms is None and pulseq.tr_ms is None  # the placeholders are not written back
    assert pulseq.dwelltime_s == pytest.approx(62.5e-6)
