"""Vendor formats through spec2nii: Philips, Siemens, GE, Bruker, Varian, UIH, jMRUI.

Every spec2nii converter ends in ``gen_nifti_mrs_hdr_ext(data, dwelltime,
meta, affine)`` and returns a list of ``NIFTI_MRS`` objects. We call those
Python functions directly (no subprocess, no temporary files) and hand the
nibabel image *underneath* each object to
:func:`mrsquant.io.nifti.spectra_from_nifti_image`. We never use
``obj[:]``: ``NIFTI_MRS.__getitem__`` conjugates (FSL-MRS' internal
convention), whereas the stored image is in the NIfTI-MRS convention, which
is ours (docs/conventions.md). Evidence per format is in docs/file_formats.md.

Detection is cheap: a file extension and, where one exists, the magic bytes
of the first 4 kB (``head``), read once by :func:`mrsquant.io.detect_format`.
When spec2nii returns several outputs (e.g. a GE P-file's metabolite and water
reference), ``read`` returns the first; :func:`mrsquant.io.read_all` returns them all.
"""
from __future__ import annotations

import argparse
import contextlib
import io as _io
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError, MetadataError
from ..spectra import Spectra
from .nifti import spectra_from_nifti_image


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its class name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _quiet():
    """Silence spec2nii's prints and warnings (we report through our own errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(_io.StringIO()):
            yield


#: Receiver-centre chemical shift (ppm) that Siemens uses for 1H spectroscopy; stated
#: as ChemicalShiftReference (0018,9053) = 4.7 in the XA enhanced MRS DICOM. spec2nii
#: does not copy it to SpecFreqChemShift. Evidence: docs/file_formats.md.
SIEMENS_CENTRE_PPM = 4.7


def _to_spectra(obj, path: Path, fmt: str, centre_ppm: float | None = None,
                suffix: str = "") -> Spectra:
    """One spec2nii ``NIFTI_MRS`` object -> :class:`Spectra` without conjugation."""
    from spec2nii.spec2nii import remove_zero_higher_dim_indices  # lazy: heavy

    if obj.image.ndim > 4:
        obj, _ = remove_zero_higher_dim_indices(obj)
    obj._save_hdr_ext()  # the object keeps its header extension apart until saved
    img = obj.image.nibImage
    extra = {"SourceFormat": fmt, "SpectralWidth": 1.0 / float(obj.dwelltime)}
    if suffix:  # a further output of the same file, e.g. '_ref' for a water reference
        extra["ConversionOutputSuffix"] = suffix
    if centre_ppm is not None and "SpecFreqChemShift" not in obj.hdr_ext.to_dict():
        extra["SpecFreqChemShift"] = float(centre_ppm)
    return spectra_from_nifti_image(img, path, meta_extra=extra)


@contextlib.contextmanager
def _philips_orientation_fallback():
    """spec2nii's Philips DICOM reader needs three localisation slabs; QA and
    unlocalised scans have fewer. Fall back to the default affine for those."""
    import spec2nii.Philips.philips_dcm as pdcm  # lazy: heavy
    from spec2nii.nifti_orientation import NIFTIOrient  # lazy: heavy

    original = pdcm._enhanced_dcm_svs_to_orientation

    def safe(img, verbose=False):
        try:
            return original(img, verbose)
        except (IndexError, AttributeError, KeyError):
            return NIFTIOrient(np.diag([10000.0, 10000.0, 10000.0, 1.0]))

    pdcm._enhanced_dcm_svs_to_orientation = safe
    try:
        yield
    finally:
        pdcm._enhanced_dcm_svs_to_orientation = original


def _convert(path: Path, fmt: str, func, *args, centre_ppm: float | None = None,
             context=contextlib.nullcontext) -> list[Spectra]:
    try:
        with _quiet(), context():
            objs, _names = func(*args)
    except (InputError, MetadataError):
        raise
    except Exception as exc:  # spec2nii raises anything from ValueError to IndexError
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as {fmt}: {msg}") from exc
    if not objs:
        raise InputError(f"{path}: spec2nii found no spectroscopy data ({fmt})")
    names = [str(n) for n in (_names or [])]
    suffixes = [""]
    for i in range(1, len(objs)):
        n = names[i] if i < len(names) else ""
        suffixes.append(n[len(names[0]):] if names and n.startswith(names[0]) and n != names[0]
                        else f"_{i + 1}")
    return [_to_spectra(o, path, fmt, centre_ppm, sfx) for o, sfx in zip(objs, suffixes)]


def _sibling(path: Path, suffix: str) -> Path | None:
    """The file next to ``path`` with the same stem and ``suffix`` in any case."""
    want = (path.stem + suffix).lower()
    for cand in path.parent.iterdir():
        if cand.name.lower() == want and cand.is_file():
            return cand
    return None


# -- Philips SDAT/SPAR -------------------------------------------------------

def _philips_pair(path: Path) -> tuple[Path, Path]:
    suffix = path.suffix.lower()
    other = ".spar" if suffix == ".sdat" else ".sdat"
    partner = _sibling(path, other)
    if partner is None:
        raise InputError(f"{path}: Philips {suffix[1:].upper()} without its {other[1:].upper()} "
                         f"partner in the same folder")
    return (path, partner) if suffix == ".sdat" else (partner, path)


def _check_sdat_size(sdat: Path, spar: Path) -> None:
    from spec2nii.Philips.philips import read_spar  # lazy: heavy

    params = read_spar(spar)
    try:
        n = int(params["samples"]) * int(params["rows"])
    except (KeyError, ValueError) as exc:
        raise InputError(f"{spar}: SPAR lacks 'samples'/'rows'") from exc
    size = sdat.stat().st_size
    if size != n * 8:  # VAX complex float: 2 x 4 bytes per point
        raise InputError(f"{sdat}: {size} bytes but the SPAR announces {n} complex points "
                         f"({n * 8} bytes): truncated or mismatched pair")


#: SPAR keys that spec2nii reads unconditionally but older SPAR files (e.g. the
#: TARQUIN 3T examples) lack, with the value that means "not used".
OLD_SPAR_DEFAULTS = {"spectrum_inversion_time": 0}


@contextlib.contextmanager
def _old_spar_defaults():
    """Give spec2nii's SPAR parser the keys an older SPAR lacks (see OLD_SPAR_DEFAULTS)."""
    import spec2nii.Philips.philips as philips  # lazy: heavy

    original = philips.read_spar

    def read_spar(filename):
        params = original(filename)
        for key, value in OLD_SPAR_DEFAULTS.items():
            params.setdefault(key, value)
        return params

    philips.read_spar = read_spar
    try:
        yield
    finally:
        philips.read_spar = original


def read_philips_sdat(path, **_) -> list[Spectra]:
    from spec2nii.Philips.philips import read_sdat_spar_pair  # lazy: heavy

    sdat, spar = _philips_pair(Path(path))
    _check_sdat_size(sdat, spar)
    return _convert(Path(path), "Philips SDAT/SPAR", read_sdat_spar_pair,
                    sdat, spar, None, [None, None, None], context=_old_spar_defaults)


# -- Philips data/list -----------------------------------------------------------

def read_philips_data_list(path, *, aux=None, **_) -> list[Spectra]:
    from spec2nii.Philips.philips_data_list import read_data_list_pair  # lazy: heavy

    path = Path(path)
    data = path if path.suffix.lower() == ".data" else _sibling(path, ".data")
    lst = path if path.suffix.lower() == ".list" else _sibling(path, ".list")
    if data is None or lst is None:
        raise InputError(f"{path}: Philips data/list needs both the .data and the .list file")
    if aux is None:
        aux = _sibling(path, ".spar")
        if aux is None:
            spars = sorted(p for p in path.parent.iterdir() if p.suffix.lower() == ".spar")
            aux = spars[0] if len(spars) == 1 else None
    if aux is None:
        raise InputError(f"{path}: Philips data/list needs a .SPAR (or DICOM) file for its "
                         f"metadata; pass aux=PATH")
    return _convert(path, "Philips data/list", read_data_list_pair, data, lst, Path(aux))


# -- Siemens RDA ----------------------------------------------------------------

_RDA_END = b">>> End of header <<<"


def _check_rda_size(path: Path) -> None:
    """The data after the header must be VectorSize x CSIMatrixSize complex doubles."""
    raw = path.read_bytes()
    end = raw.find(_RDA_END)
    if end < 0:
        raise InputError(f"{path}: RDA header has no end marker (truncated or not RDA)")
    start = raw.find(b"\n", end)
    start = len(raw) if start < 0 else start + 1
    hdr = {}
    for line in raw[:end].decode("latin-1").splitlines():
        if ": " in line:
            key, value = line.split(": ", 1)
            hdr[key.strip()] = value.strip()
    try:
        n = int(hdr["VectorSize"])
        for i in range(3):
            n *= int(hdr.get(f"CSIMatrixSize[{i}]", 1))
    except (KeyError, ValueError) as exc:
        raise InputError(f"{path}: RDA header lacks VectorSize/CSIMatrixSize") from exc
    have = len(raw) - start
    if have != 16 * n:
        raise InputError(f"{path}: {have} data bytes but the RDA header announces {n} complex points "
                         f"({16 * n} bytes): truncated or corrupt")


def read_siemens_rda(path, **_) -> list[Spectra]:
    from spec2nii.Siemens.rda import convert_rda  # lazy: heavy

    path = Path(path)
    _check_rda_size(path)
    return _convert(path, "Siemens RDA", convert_rda, path, None, False,
                    centre_ppm=SIEMENS_CENTRE_PPM)


# -- DICOM (Siemens, Philips, UIH), dispatched on Manufacturer ------------------

def _dicom_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".ima", ".dcm"))
        if not files:
            raise InputError(f"{path}: folder holds no .IMA/.dcm files")
        return files
    return [path]


def check_dicom_complete(file: Path, ds) -> None:
    """Every element must hold the bytes its header declares, and enhanced MRS data
    (5600,0020) must hold rows x columns x frames complex float32 values."""
    for tag in list(ds._dict):
        raw = ds._dict[tag]
        length, value = getattr(raw, "length", None), getattr(raw, "value", None)
        if isinstance(value, bytes) and length not in (None, 0xFFFFFFFF) and len(value) != length:
            raise InputError(f"{file}: truncated DICOM: element {tag} holds {len(value)} of its "
                             f"{length} declared bytes")
    if (0x5600, 0x0020) in ds:
        try:
            n = int(ds.DataPointRows) * int(ds.DataPointColumns) * int(ds.get("NumberOfFrames", 1) or 1)
        except (AttributeError, TypeError, ValueError):
            return
        have = len(ds[0x5600, 0x0020].value)
        if have != 8 * n:
            raise InputError(f"{file}: DICOM spectroscopy data hold {have} bytes but the header "
                             f"announces {n} complex points ({8 * n} bytes): truncated or corrupt")


def _read_dicom_checked(file: Path):
    import pydicom  # lazy: heavy

    try:
        ds = pydicom.dcmread(str(file))
    except Exception as exc:
        raise InputError(f"{file}: not a readable DICOM file ({_first_line(exc)})") from exc
    check_dicom_complete(file, ds)
    return ds


def read_dicom(path, **_) -> list[Spectra]:
    path = Path(path)
    files = _dicom_files(path)
    for f in files[1:]:
        _read_dicom_checked(f)
    ds = _read_dicom_checked(files[0])
    manufacturer = str(getattr(ds, "Manufacturer", "")).lower()
    if "siemens" in manufacturer:
        from spec2nii.Siemens.dicomfunctions import multi_file_dicom  # lazy: heavy
        fmt = "Siemens DICOM"
    elif "philips" in manufacturer:
        from spec2nii.Philips.philips_dcm import multi_file_dicom  # lazy: heavy
        fmt = "Philips DICOM"
    elif "uih" in manufacturer or "united imaging" in manufacturer:
        from spec2nii.uih import multi_file_dicom  # lazy: heavy
        fmt = "UIH DICOM"
    else:
        raise InputError(f"{path}: DICOM from {manufacturer or 'an unnamed manufacturer'!r}; "
                         f"MRS DICOM is read for Siemens, Philips and UIH")
    if not _is_mrs_dicom(ds):
        raise InputError(f"{path}: a DICOM file but not spectroscopy (an image?)")
    centre, context = None, contextlib.nullcontext
    if "siemens" in manufacturer:
        centre = float(ds.get("ChemicalShiftReference", SIEMENS_CENTRE_PPM) or SIEMENS_CENTRE_PPM)
    elif "philips" in manufacturer:
        context = _philips_orientation_fallback
    try:
        return _convert(path, fmt, multi_file_dicom, files, None, "DIM_DYN", False,
                        centre_ppm=centre, context=context)
    except InputError as exc:
        if "'NumberOfFrames'" in str(exc):  # VA-era spectroscopy DICOM: spec2nii needs it in the CSA
            version = str(ds.get("SoftwareVersions", "an old software version"))
            raise InputError(f"{path}: Siemens spectroscopy DICOM from {version} without "
                             f"NumberOfFrames in its CSA header; spec2nii cannot read it "
                             f"(export the scan as RDA instead)") from exc
        raise


def _is_mrs_dicom(ds) -> bool:
    sop = str(getattr(ds, "SOPClassUID", ""))
    if sop == "1.2.840.10008.5.1.4.1.1.4.2":  # MR Spectroscopy Storage (enhanced, XA)
        return True
    try:  # VB/VD/VE: private CSA header names the image type
        return "SPECTROSCOPY" in [str(x).upper() for x in ds.ImageType] or (0x7FE1, 0x0010) in ds
    except AttributeError:
        return (0x7FE1, 0x0010) in ds


# -- GE P-file --------------------------------------------------------------------

#: Header size of rdbm revision 9 P-files (LX 11), which lack rdb_hdr_off_data;
#: spec2nii's own table of data offsets gives 61464 for this revision.
GE_REV9_DATA_OFFSET = 61464


@contextlib.contextmanager
def _ge_old_revision_fixes():
    """Two spec2nii bugs for P-file revisions below 11 (the rev 9 files in vendor_raw):
    ``is_ge_file`` tests a str in the bytes logo (TypeError), and the data offset
    is read from a header field that these revisions do not have."""
    import spec2nii.GE.ge_read_pfile as gp  # lazy: heavy

    original_is_ge, original_header = gp.Pfile.is_ge_file, gp.Pfile.read_header

    def is_ge_file(self):
        if self.version < 12:
            logo = self.hdr.rhr_rh_logo
            return (b"GE" if isinstance(logo, bytes) else "GE") in logo
        return original_is_ge.fget(self)

    def read_header(self):
        original_header(self)
        if self.hdr is not None and not hasattr(self.hdr, "rhr_rdb_hdr_off_data"):
            if int(self.version) != 9:
                raise InputError(f"GE P-file revision {self.version:g} has no data offset in its "
                                 f"header; only revision 9 is known")
            self.hdr.rhr_rdb_hdr_off_data = GE_REV9_DATA_OFFSET

    gp.Pfile.is_ge_file, gp.Pfile.read_header = property(is_ge_file), read_header
    try:
        yield
    finally:
        gp.Pfile.is_ge_file, gp.Pfile.read_header = original_is_ge, original_header


def check_pfile_size(path: Path) -> None:
    """Header size + raw_pass_size (the header's count of data bytes) must fit the file."""
    import spec2nii.GE.ge_read_pfile as gp  # lazy: heavy

    class _HeaderOnly(gp.Pfile):
        def __init__(self, fname):  # header only: no data mapping
            self.file_name, self.version, self.hdr, self.map = fname, 0, None, None
            self.endian, self.encoding = "little", None
            self.read_header()

    try:
        with _quiet(), _ge_old_revision_fixes():
            pf = _HeaderOnly(str(path))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise InputError(f"{path}: not a readable GE P-file header ({_first_line(exc)})") from exc
    if pf.hdr is None:
        raise InputError(f"{path}: not a GE P-file (unknown rdbm revision)")
    offset, n = int(pf.hdr.rhr_rdb_hdr_off_data), int(pf.hdr.rhr_rh_raw_pass_size)
    size = path.stat().st_size
    if n <= 0 or offset + n > size:
        raise InputError(f"{path}: {size} bytes but the P-file header announces {offset} header + "
                         f"{n} data bytes: truncated or corrupt")


def read_ge_pfile(path, **_) -> list[Spectra]:
    from spec2nii.GE.ge_pfile import read_pfile  # lazy: heavy

    path = Path(path)
    check_pfile_size(path)
    return _convert(path, "GE P-file", read_pfile, path, None, context=_ge_old_revision_fixes)


# -- Bruker -----------------------------------------------------------------------

def _bruker_target(path: Path) -> tuple[Path, str] | None:
    """(dataset file, mode) for a Bruker scan folder or its fid/2dseq file."""
    if path.is_dir():
        if (path / "method").is_file() and (path / "acqp").is_file():
            for name, mode in (("fid", "FID"), ("rawdata.job0", "RAWDATA")):
                if (path / name).is_file():
                    return path / name, mode
            seq = sorted(path.glob("pdata/*/2dseq"))
            if seq:
                return seq[0], "2DSEQ"
        return None
    if path.name in ("fid", "rawdata.job0") and (path.parent / "method").is_file():
        return path, "FID" if path.name == "fid" else "RAWDATA"
    if path.name == "2dseq" and (path.parent / "visu_pars").is_file():
        return path, "2DSEQ"
    return None


def read_bruker(path, **_) -> list[Spectra]:
    from spec2nii.bruker import read_bruker as s2n_read_bruker  # lazy: heavy

    path = Path(path)
    target = _bruker_target(path)
    if target is None:
        raise InputError(f"{path}: not a Bruker scan (needs method/acqp with fid or pdata/*/2dseq)")
    file, mode = target
    args = argparse.Namespace(file=str(file), mode=mode, query=[], dump_headers=False,
                              zeropad=False, nospectrum=False, fileout=None)
    return _convert(path, "Bruker", s2n_read_bruker, args)


# -- Varian / Agilent ---------------------------------------------------------------

def _varian_dir(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent
    if (folder / "fid").is_file() and (folder / "procpar").is_file():
        return folder
    return None


def _check_varian_size(fid: Path) -> None:
    """A Varian ``fid`` is a 32-byte file header (big-endian int32 nblocks, ntraces, np,
    ebytes, tbytes, bbytes, ...) and nblocks blocks of bbytes each."""
    raw = fid.read_bytes()[:32]
    if len(raw) < 32:
        raise InputError(f"{fid}: {len(raw)} bytes, shorter than a Varian file header")
    nblocks, _ntraces, _np, _ebytes, _tbytes, bbytes = (int(v) for v in np.frombuffer(raw[:24], ">i4"))
    want, size = 32 + nblocks * bbytes, fid.stat().st_size
    if nblocks <= 0 or bbytes <= 0 or size != want:
        raise InputError(f"{fid}: {size} bytes but the Varian header announces {nblocks} block(s) of "
                         f"{bbytes} bytes ({want} bytes): truncated or corrupt")


def read_varian(path, **_) -> list[Spectra]:
    """Varian ``.fid`` folder (``fid`` + ``procpar``) via spec2nii's Varian parser.

    spec2nii's ``read_varian`` stores TE as ``pw + alfa`` (microseconds) and
    fails on procpar files without orientation keys, so only its file parser
    (``spec2nii.varian.read``) is used; TE/TR come from procpar ``te``/``tr``
    (seconds). Data are stored in our convention (checked: NAA at 2.0 ppm in
    the mm_consensus 4T and 7T human STEAM spectra without conjugation).
    """
    from spec2nii import varian as s2n_varian  # lazy: heavy

    path = Path(path)
    folder = _varian_dir(path)
    if folder is None:
        raise InputError(f"{path}: a Varian .fid folder needs 'fid' and 'procpar'")
    _check_varian_size(folder / "fid")
    try:
        with _quiet():
            dic, data = s2n_varian.read(str(folder))
    except Exception as exc:
        raise InputError(f"{path}: cannot read as Varian fid/procpar: {exc}") from exc
    pp = dic["procpar"]

    def value(key, cast=float):
        try:
            return cast(pp[key]["values"][0])
        except (KeyError, IndexError, ValueError):
            return None

    n_points = int(dic["np"]) // 2
    sw, sfrq = value("sw"), value("sfrq")
    if not sw or not sfrq:
        raise MetadataError(f"{path}: procpar lacks 'sw' or 'sfrq'")
    arr = np.asarray(data).reshape(-1, n_points)
    tn = value("tn", str) or "H1"
    nucleus = tn[1:] + tn[0] if tn[0].isalpha() and tn[1:].isdigit() else tn
    dims = () if arr.shape[0] == 1 else ("dyn",)
    te, tr = value("te"), value("tr")
    meta = {"Manufacturer": "Varian", "ProtocolName": value("seqfil", str),
            "OriginalFile": [folder.name], "SourceFormat": "Varian fid/procpar",
            "ConversionMethod": "mrsquant Varian reader (spec2nii.varian parser)"}
    if value("tm") is not None:
        meta["MixingTime"] = value("tm")
    return [Spectra(data=arr[0] if not dims else arr, dims=dims, dwelltime_s=1.0 / sw,
                    spectrometer_frequency_mhz=sfrq, nucleus=nucleus,
                    te_ms=None if te is None else te * 1000.0,
                    tr_ms=None if tr is None else tr * 1000.0, meta=meta)]


# -- jMRUI ---------------------------------------------------------------------------

def _check_jmrui_text(path: Path) -> None:
    """PointsInDataset x DatasetsInFile must equal the number of data rows."""
    declared, rows = {}, 0
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("PointsInDataset", "DatasetsInFile"):
            try:
                declared[key.strip()] = int(float(value))
            except ValueError:
                pass
            continue
        parts = line.split()
        if len(parts) >= 2:
            try:
                [float(x) for x in parts]
            except ValueError:
                continue
            rows += 1
    if "PointsInDataset" not in declared:
        raise InputError(f"{path}: jMRUI text without PointsInDataset")
    n = declared["PointsInDataset"] * declared.get("DatasetsInFile", 1)
    if rows != n:
        raise InputError(f"{path}: {rows} data rows but the jMRUI header announces {n} points: "
                         f"truncated or corrupt")


def read_jmrui(path, **_) -> list[Spectra]:
    from spec2nii.jmrui import jmrui_mrui, jmrui_txt  # lazy: heavy

    path = Path(path)
    if path.suffix.lower() != ".mrui":
        _check_jmrui_text(path)
    args = argparse.Namespace(file=path, fileout=None, affine=None)
    func = jmrui_mrui if path.suffix.lower() == ".mrui" else jmrui_txt
    return _convert(path, "jMRUI", func, args)


# -- registry ---------------------------------------------------------------------------

class VendorReader:
    """A registry entry: name, description, a cheap ``can_read`` and ``read``."""

    def __init__(self, name, description, can_read, read_all):
        self.name = name
        self.description = description
        self._can_read = can_read
        self.read_all = read_all

    def can_read(self, path: Path, head: bytes) -> bool:
        return bool(self._can_read(path, head))

    def read(self, path, **kwargs) -> Spectra:
        return self.read_all(path, **kwargs)[0]


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _is_dicom(path: Path, head: bytes) -> bool:
    if path.is_dir():
        return any(p.suffix.lower() in (".ima", ".dcm") for p in path.iterdir())
    return head[128:132] == b"DICM" or _suffix(path) in (".ima", ".dcm")


VENDOR_READERS = (
    VendorReader("Philips SDAT/SPAR", "Philips SDAT/SPAR pair (spec2nii)",
                 lambda p, h: _suffix(p) in (".sdat", ".spar"), read_philips_sdat),
    VendorReader("Philips data/list", "Philips data/list (+ SPAR) (spec2nii)",
                 lambda p, h: _suffix(p) in (".data", ".list"), read_philips_data_list),
    VendorReader("Siemens RDA", "Siemens RDA (spec2nii)",
                 lambda p, h: _suffix(p) == ".rda" or h.startswith(b">>> Begin of header <<<"),
                 read_siemens_rda),
    VendorReader("GE P-file", "GE P-file .7 (spec2nii)", lambda p, h: _suffix(p) == ".7", read_ge_pfile),
    VendorReader("jMRUI", "jMRUI text or .mrui (spec2nii)",
                 lambda p, h: _suffix(p) == ".mrui" or h.lstrip().startswith(b"jMRUI Data Textfile"),
                 read_jmrui),
    VendorReader("Varian", "Varian/Agilent fid + procpar folder (spec2nii parser)",
                 lambda p, h: (p.is_dir() or p.name == "fid") and _varian_dir(p) is not None
                 and not (p if p.is_dir() else p.parent).joinpath("method").exists(), read_varian),
    VendorReader("Bruker", "Bruker ParaVision scan folder, fid or 2dseq (spec2nii)",
                 lambda p, h: _bruker_target(p) is not None, read_bruker),
    VendorReader("DICOM", "MRS DICOM: Siemens IMA / XA enhanced, Philips, UIH (spec2nii)",
                 _is_dicom, read_dicom),
)
