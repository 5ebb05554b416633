"""Exceptions that the CLI turns into a one-line message and exit status 2."""


class MRSQuantError(Exception):
    """Base class for errors caused by the user's input (exit status 2)."""


class InputError(MRSQuantError):
    """A file cannot be read: missing, empty, truncated, corrupt or unknown format."""


class MetadataError(MRSQuantError, ValueError):
    """Metadata out of range or in the wrong units (dwell time, frequency, TE, TR)."""


class BasisMismatchError(MRSQuantError, ValueError):
    """A basis set does not fit the data (field, dwell time, TE)."""


class BasisMismatchWarning(UserWarning):
    """The basis may not suit the data (e.g. a different TE): fitted, but said clearly."""
