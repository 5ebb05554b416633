"""NIfTI-MRS reader and writer (nibabel directly; the standard's convention is ours).

NIfTI-MRS stores ``(x, y, z, time, dim_5, dim_6, dim_7)`` with the dwell time
in ``pixdim[4]`` and a JSON header extension (code 44). ``Spectra`` keeps the
spectral axis last and drops the three spatial axes when they are all 1
(single voxel).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError, MetadataError
from ..spectra import Spectra

NIFTI_MRS_VERSION = (0, 9)
_SPATIAL = ("x", "y", "z")


def _tag(value: str) -> str:
    v = value.upper()
    return v[4:].lower() if v.startswith("DIM_") else v.lower()


def _dims_from_header(hdr: dict, ndim: int) -> tuple[str, ...]:
    defaults = ("coil", "dyn", "indirect_0")
    return tuple(_tag(hdr.get(f"dim_{i}", f"DIM_{defaults[i - 5].upper()}")) for i in range(5, ndim + 1))


def _seconds_to_ms(hdr: dict, key: str, path) -> float | None:
    v = hdr.get(key)
    if v is None:
        return None
    if isinstance(v, dict):  # dynamic header value
        v = v.get("Value", [None])[0] if isinstance(v.get("Value"), list) else v.get("Value")
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    limit = 1.0 if key == "EchoTime" else 100.0
    if v > limit:
        raise MetadataError(
            f"{path}: {key} {v:g} in the header; NIfTI-MRS stores seconds, "
            f"so this looks like milliseconds written as seconds")
    return v * 1000.0


def read_nifti_mrs(path, **_) -> Spectra:
    """Read a NIfTI-MRS file (``.nii`` or ``.nii.gz``)."""
    import nibabel as nib  # lazy: heavy (nibabel imports pydicom), only when a NIfTI is read

    path = Path(path)
    try:
        img = nib.load(str(path))
    except Exception as exc:
        raise InputError(f"{path}: corrupt or truncated NIfTI file ({exc.__class__.__name__})") from exc
    return spectra_from_nifti_image(img, path)


def _header_extension(img, path) -> dict:
    codes = img.header.extensions.get_codes()
    if 44 not in codes:
        raise InputError(f"{path}: NIfTI file without the NIfTI-MRS header extension (not MRS data)")
    try:
        return json.loads(img.header.extensions[codes.index(44)].get_content())
    except ValueError as exc:
        raise InputError(f"{path}: NIfTI-MRS header extension is not valid JSON") from exc


def spectra_from_nifti_image(img, path, *, meta_extra: dict | None = None) -> Spectra:
    """:class:`Spectra` from a nibabel NIfTI image that follows NIfTI-MRS.

    Shared by the NIfTI-MRS reader and the spec2nii vendor readers (which
    hand over the nibabel image underneath spec2nii's ``NIFTI_MRS`` object,
    so no conjugation happens on the way: the data stay in the NIfTI-MRS
    convention).

    Parameters
    ----------
    img : nibabel.Nifti1Image or nibabel.Nifti2Image
        Complex data ``(x, y, z, time[, dim_5, dim_6, dim_7])`` with the JSON
        header extension (code 44).
    path : str or Path
        Only used in error messages.
    meta_extra : dict, optional
        Keys added to (or replacing) the header extension in ``meta``.
    """
    hdr = _header_extension(img, path)
    if meta_extra:
        hdr.update(meta_extra)
    try:
        arr = np.asarray(img.dataobj)
    except Exception as exc:
        raise InputError(f"{path}: corrupt or truncated NIfTI file ({exc.__class__.__name__})") from exc
    header = img.header
    if not np.iscomplexobj(arr):
        raise InputError(f"{path}: NIfTI-MRS data must be complex, found {arr.dtype}")
    if arr.ndim < 4:
        raise InputError(f"{path}: NIfTI-MRS needs at least 4 dimensions, found {arr.ndim}")
    f0 = hdr.get("SpectrometerFrequency")
    nucleus = hdr.get("ResonantNucleus", ["1H"])
    if f0 is None:
        raise MetadataError(f"{path}: header lacks SpectrometerFrequency")
    f0 = float(f0[0] if isinstance(f0, (list, tuple)) else f0)
    nucleus = nucleus[0] if isinstance(nucleus, (list, tuple)) else nucleus
    dwell = float(header["pixdim"][4])
    units = header.get_xyzt_units()[1]
    if units == "msec":
        dwell /= 1e3
    elif units == "usec":
        dwell /= 1e6
    dims = _dims_from_header(hdr, arr.ndim)
    data = np.moveaxis(arr, 3, -1)  # (x, y, z, d5.., t)
    spatial = data.shape[:3]
    all_dims = _SPATIAL + dims
    if spatial == (1, 1, 1):
        data = data.reshape(data.shape[3:])
        all_dims = dims
    centre = 4.65
    if "SpecFreqChemShift" in hdr:  # NIfTI-MRS v0.9 field: ppm of the receiver centre
        centre = float(hdr["SpecFreqChemShift"])
    return Spectra(
        data=data.astype(np.complex128), dims=all_dims, dwelltime_s=dwell,
        spectrometer_frequency_mhz=f0, nucleus=nucleus,
        te_ms=_seconds_to_ms(hdr, "EchoTime", path), tr_ms=_seconds_to_ms(hdr, "RepetitionTime", path),
        meta=hdr, centre_ppm=centre, affine=np.asarray(img.affine, dtype=float))


def header_extension(spectra: Spectra) -> dict:
    """The NIfTI-MRS JSON header extension for ``spectra`` (keeps ``meta``)."""
    hdr = {k: v for k, v in spectra.meta.items() if not k.startswith("dim_")}
    hdr["SpectrometerFrequency"] = [spectra.spectrometer_frequency_mhz]
    hdr["ResonantNucleus"] = [spectra.nucleus]
    if spectra.te_ms is not None:
        hdr["EchoTime"] = spectra.te_ms / 1000.0
    if spectra.tr_ms is not None:
        hdr["RepetitionTime"] = spectra.tr_ms / 1000.0
    if spectra.centre_ppm != 4.65:
        hdr["SpecFreqChemShift"] = spectra.centre_ppm
    for i, d in enumerate(d for d in spectra.dims if d not in _SPATIAL):
        hdr[f"dim_{5 + i}"] = f"DIM_{d.upper()}"
    return hdr


def write_nifti_mrs(spectra: Spectra, path, **_) -> None:
    import nibabel as nib  # lazy: heavy

    dims = spectra.dims
    spatial = [d for d in dims if d in _SPATIAL]
    other = [d for d in dims if d not in _SPATIAL]
    if len(other) > 3:
        raise MetadataError(f"NIfTI-MRS holds at most 3 non-spatial dimensions, got {other}")
    if spatial and tuple(dims[:len(spatial)]) != tuple(spatial):
        raise MetadataError(f"spatial dims must come first, got {dims}")
    data = spectra.data
    if not spatial:
        data = data.reshape((1, 1, 1) + data.shape)
    else:
        order = [s for s in _SPATIAL]
        for s in order:
            if s not in spatial:
                data = np.expand_dims(data, axis=order.index(s))
    data = np.moveaxis(data, -1, 3).astype(np.complex64 if spectra.data.dtype == np.complex64 else np.complex128)
    affine = spectra.affine if spectra.affine is not None else np.diag([10000.0, 10000.0, 10000.0, 1.0])
    img = nib.Nifti2Image(data, affine)
    header = img.header
    header.set_qform(affine)
    header.set_sform(affine)
    header["pixdim"][4] = spectra.dwelltime_s
    header["intent_name"] = f"mrs_v{NIFTI_MRS_VERSION[0]}_{NIFTI_MRS_VERSION[1]}".encode()
    header.set_xyzt_units(xyz=2, t=8)
    header.extensions.append(
        nib.nifti1.Nifti1Extension(44, json.dumps(header_extension(spectra), default=_json_default).encode()))
    nib.save(img, str(path))


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


class NiftiMRSReader:
    name = "NIfTI-MRS"
    description = "NIfTI-MRS (.nii, .nii.gz)"

    @staticmethod
    def can_read(path: Path, head: bytes) -> bool:
        n = path.name.lower()
        return n.endswith(".nii") or n.endswith(".nii.gz")

    read = staticmethod(read_nifti_mrs)


NIFTI_READER = NiftiMRSReader()
