#!/usr/bin/env bash
# Ready-made 3T (123.2 MHz) basis sets shipped in data/basis/, made by mrsquant's own
# ideal-pulse density-matrix simulator (docs/basis.md). 2048 points, 4000 Hz, all 22
# metabolites of the spin-system library, no line broadening, no MM/lipid components
# (add them with --mm). Run from the repository root:  bash data/basis/make_basis_sets.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python}
sim() { "$PY" -m mrsquant basis simulate --field-mhz 123.2 --points 2048 --bandwidth 4000 "$@"; }

sim --sequence press --te 30 --te1 11 --te2 19 -o press_te30_3T
sim --sequence press --te 35 --te1 13 --te2 22 -o press_te35_3T
sim --sequence slaser --te 30 -o slaser_te30_3T
sim --sequence slaser --te 40 -o slaser_te40_3T
sim --sequence steam --te 20 --tm 10 -o steam_te20_tm10_3T
# MEGA-PRESS: TE1 15 ms (default), editing pulses ideal, 60 Hz wide; writes *_on, *_off, *_diff
sim --sequence mega-press --te 68 --edit-ppm 1.9 --edit-off-ppm 7.5 -o megapress_te68_gaba_3T
sim --sequence mega-press --te 80 --edit-ppm 1.9 --edit-off-ppm 7.5 -o megapress_te80_gaba_3T
sim --sequence mega-press --te 120 --edit-ppm 4.56 --edit-off-ppm 7.5 -o megapress_te120_gsh_3T
