"""Derive mrsquant/basis/data/spin_systems.json from the literature tables.

Run once (the output is committed as package data):

    python data/basis/make_spin_systems.py /work/shared/data/spin_systems

Values (chemical shifts, J couplings) are facts from Govindaraju et al., NMR
Biomed 2000;13:129-153 and Govind et al., NMR Biomed 2015;28:923-924, read from
the Vespa table (Govindaraju 2000 + Govind 2015 updates) and, for NAAG,
ascorbate and citrate (absent from Vespa), from the FID-A table (which tabulates
Govindaraju 2000). The JSON structure is ours: each metabolite is split into
independent spin groups (connected components of the J graph); uncoupled
equivalent protons become one spin with a ``scale`` (number of protons);
heteronuclei (31P, 14N) are kept as ``nucleus`` entries with no 1H shift.

``VARIANTS`` adds selectable alternatives from other published tables under
``metabolites.<name>.variants.<key>`` (same structure, own ``source``); the
default entry stays Govindaraju/Govind.
"""
import json
import sys
from pathlib import Path

import numpy as np

# our name -> (table, key, full name)
VESPA = {
    "NAA": ("n-acetylaspartate", "N-acetylaspartate"),
    "Cr": ("creatine", "creatine"),
    "PCr": ("phosphocreatine", "phosphocreatine"),
    "GPC": (("GPC-gp", "GPC-pcholine1", "GPC-pcholine2"), "glycerophosphocholine"),
    "PCh": (("phosphorylcholine-notrimethyl", "phosphorylcholine-trimethyl"), "phosphocholine"),
    "Glu": ("glutamate", "glutamate"),
    "Gln": ("glutamine", "glutamine"),
    "GABA": ("gaba", "gamma-aminobutyric acid"),
    "GSH": (("glutathione-glutamate", "glutathione-glycine-cysteine"), "glutathione"),
    "Tau": ("taurine", "taurine"),
    "mI": ("myo-inositol", "myo-inositol"),
    "sI": ("scyllo-inositol", "scyllo-inositol"),
    "Lac": ("lactate", "lactate"),
    "Asp": ("aspartate", "aspartate"),
    "Ala": ("alanine", "alanine"),
    "PE": ("phosphorylethanolamine", "phosphoethanolamine"),
    "Glc": (("glucose-alpha", "glucose-beta"), "glucose (alpha 0.36, beta 0.64)"),
    "Gly": ("glycine", "glycine"),
    "Ace": ("acetate", "acetate"),
}
FIDA = {
    "NAAG": ("NAAG", "N-acetylaspartylglutamate", 1.0),
    "Asc": ("Asc", "ascorbate", 1.0),
    "Cit": ("Cit", "citrate", 2.0),   # two equivalent AB CH2 pairs: 4 protons
}
GLC_FRACTION = {"glucose-alpha": 0.36, "glucose-beta": 0.64}
# Selectable alternatives (never the default), each from another published table:
# (metabolite, variant key) -> (table file, key, source, note)
VARIANTS = {
    ("GSH", "tkac2008"): (
        "FID-A", "GSH_v2",
        ("Tkac I. Refinement of simulated basis set for LCModel analysis. Proc Intl Soc Magn "
         "Reson Med 16 (2008) p. 1624 (cysteine and glycine moieties); glutamyl moiety "
         "Govindaraju 2000"),
        ("FID-A GSH_v2 lists the glycine CH2 twice (3.7698/3.7812 in its cysteine group and "
         "3.769 x 2 in its glycine group); the 3.769 pair is dropped here (2 glycine protons)")),
    ("Asc", "terpstra2006"): (
        "spant", "asc",
        ("Terpstra M, Marjanska M, Henry PG, Tkac I, Gruetter R. Detection of an antioxidant "
         "profile in the human brain in vivo via double editing with MEGA-PRESS. Magn Reson Med "
         "2006;56:1192-1199"), ""),
}
G2000 = "Govindaraju V, Young K, Maudsley AA. NMR Biomed 2000;13:129-153"
G2015 = "Govind V, Young K, Maudsley AA. NMR Biomed 2015;28:923-924 (corrigendum/update)"


def split_groups(shifts, nuclei, J, scale, label):
    """Connected components of the J graph; merge equal uncoupled 1H singlets."""
    n = len(shifts)
    J = np.asarray(J, float)
    J = np.triu(J, 1) + np.triu(J, 1).T
    seen, comps = set(), []
    for s in range(n):
        if s in seen:
            continue
        stack, comp = [s], []
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            comp.append(i)
            stack += [j for j in range(n) if J[i, j] != 0 and j not in seen]
        comps.append(sorted(comp))
    groups, singlets = [], {}
    for comp in comps:
        if len(comp) == 1:
            i = comp[0]
            if nuclei[i] != "1H":
                continue  # an uncoupled heteronucleus contributes nothing to 1H spectra
            singlets.setdefault(round(shifts[i], 4), 0)
            singlets[round(shifts[i], 4)] += 1
            continue
        # hetero-only couplings of equivalent protons (none in this library) would land here too
        sub = [shifts[i] if nuclei[i] == "1H" else None for i in comp]
        jl = [[a, b, round(float(J[comp[a], comp[b]]), 4)]
              for a in range(len(comp)) for b in range(a + 1, len(comp)) if J[comp[a], comp[b]] != 0]
        nh = sum(nuclei[i] == "1H" for i in comp)
        groups.append({"name": label, "shifts_ppm": sub, "nuclei": [nuclei[i] for i in comp],
                       "j_hz": jl, "scale": scale, "n_protons": round(nh * scale, 4)})
    for ppm, count in singlets.items():
        groups.append({"name": f"{label} singlet {ppm:g}", "shifts_ppm": [ppm], "nuclei": ["1H"],
                       "j_hz": [], "scale": round(count * scale, 4),
                       "n_protons": round(count * scale, 4)})
    return groups


def main(folder):
    folder = Path(folder)
    vespa = json.loads((folder / "metabolites_vespa.json").read_text())["metabolites"]
    fida = json.loads((folder / "spinSystems_FID-A.json").read_text())["systems"]
    out = {}
    for name, (keys, full) in VESPA.items():
        keys = (keys,) if isinstance(keys, str) else keys
        groups, cites = [], set()
        for k in keys:
            m = vespa[k]
            cites.add(G2000)
            if "2015" in m["comment"]:
                cites.add(G2015)
            groups += split_groups(m["shifts_ppm"], m["isotopes"], m["J_Hz_upper"],
                                   GLC_FRACTION.get(k, 1.0), k)
        out[name] = {"full_name": full, "source": "; ".join(sorted(cites)),
                     "table": f"Vespa metabolites.xml: {', '.join(keys)}", "groups": groups}
    for name, (key, full, scale) in FIDA.items():
        groups = []
        for g in fida[key]:
            nuclei = ["1H"] * len(g["shifts_ppm"])
            groups += split_groups(g["shifts_ppm"], nuclei, g["J_Hz"], scale * g["scaleFactor"],
                                   g["name"])
        out[name] = {"full_name": full, "source": G2000,
                     "table": f"FID-A spinSystems.mat: {key}", "groups": groups}
    spant = json.loads((folder / "mol_parameters_spant.json").read_text())["molecules"]
    for (name, variant), (table, key, source, note) in VARIANTS.items():
        groups = []
        if table == "FID-A":
            for g in fida[key]:
                sh, J = g["shifts_ppm"], g["J_Hz"]
                if name == "GSH" and g["name"] == "GSH_glyc":   # the duplicated glycine CH2
                    keep = [i for i, x in enumerate(sh) if abs(x - 3.769) > 1e-6]
                    sh, J = [sh[i] for i in keep], [[J[i][j] for j in keep] for i in keep]
                groups += split_groups(sh, ["1H"] * len(sh), J, g["scaleFactor"], g["name"])
        else:
            for g in spant[key]["spin_groups"]:
                J = np.asarray(g["J_Hz_lower"], float).T        # lower -> upper triangle
                groups += split_groups(g["shifts_ppm"], g["nucleus"], J, g["scale_factor"], key)
        entry = {"source": source, "table": f"{table}: {key}", "groups": groups}
        if note:
            entry["note"] = note
        out[name].setdefault("variants", {})[variant] = entry
    for m in out.values():
        for e in [m, *m.get("variants", {}).values()]:
            e["n_protons"] = round(sum(g["n_protons"] for g in e["groups"]), 4)
    doc = {
        "_about": {
            "description": "1H spin systems of brain metabolites for mrsquant's density-matrix "
                           "simulator. Each metabolite is a list of independent spin groups. "
                           "shifts_ppm: 1H chemical shift per spin (null for a heteronucleus); "
                           "nuclei: '1H', '31P' or '14N'; j_hz: [i, j, J in Hz] within the group; "
                           "scale: multiplier of the group's signal (equivalent uncoupled protons "
                           "collapsed into one spin, glucose anomer fractions); n_protons: "
                           "1H count weighted by scale. variants: selectable alternatives from other "
                           "published tables (not the default), each with its own source.",
            "made_by": "data/basis/make_spin_systems.py",
            "references": [G2000, G2015],
        },
        "metabolites": out,
    }
    dest = Path(__file__).resolve().parents[2] / "mrsquant" / "basis" / "data" / "spin_systems.json"
    dest.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {dest}: {len(out)} metabolites")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/spin_systems")
