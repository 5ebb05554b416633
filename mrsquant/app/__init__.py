"""Application layer: files in, files out.

- :mod:`.pipeline`: ``fit_files`` (read, preprocess, reference, fit, water-scale, write tables, fit.nc, report)
- :mod:`.mrsi`: ``fit_mrsi`` / ``fit_maps`` (a spectroscopic imaging grid to metabolite maps)
- :mod:`.distributed`: the same batch fit run in chunks on dask.distributed
- :mod:`.longitudinal`: ``run_longitudinal`` (fit tables + scores to change statistics, TSV/NetCDF/PDF)

Everything numeric lives below (fitting, quant, qc, longitudinal); this layer reads, writes and
orchestrates. See docs/architecture.md.
"""
