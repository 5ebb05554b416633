"""The data formats mrsquant reads and writes, in one static table.

``mrsquant.io.load`` asks each reader in ``READERS`` in turn (``can_read(path, head)``) and
uses the first that claims the file, so the order matters: specific formats first, the
two-column text reader (which would take almost anything) last. ``save`` picks the
writer by the file name's suffix.

Adding a format is one module in this package (a reader object with ``name``,
``description``, ``can_read`` and ``read``) plus one line here.
Basis-set formats have their own table in :mod:`mrsquant.basis.io`.
"""
from __future__ import annotations

from . import lcmodel, nifti, text, twix, vendor

READERS: tuple = (
    nifti.NIFTI_READER,          # NIfTI-MRS (.nii, .nii.gz)
    lcmodel.RAW_READER,          # LCModel .RAW / .H2O
    *vendor.VENDOR_READERS,      # Philips SDAT/SPAR, data/list, Siemens RDA, GE P-file, jMRUI, Varian, Bruker, DICOM
    twix.TWIX_READER,            # Siemens TWIX .dat (pyMapVBVD + spec2nii)
    text.TEXT_READER,            # two-column text: last, it claims almost anything
)

#: (lower-case suffixes, function(spectra, path, **kw))
WRITERS: tuple = (
    ((".nii.gz", ".nii"), nifti.write_nifti_mrs),
    ((".raw", ".h2o"), lcmodel.write_lcmodel_raw),
)
