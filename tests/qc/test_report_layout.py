"""Report page defects (issue 20 part 5): labels that do not overlap, no clipped axis label,
numbers to 3 significant figures, the status's reasons on the page."""
import re

import pytest


@pytest.fixture(scope="module")
def page(challenge, tmp_path_factory):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from mrsquant.app.pipeline import fit_files
    from mrsquant.qc.report import draw_spectrum_page
    from mrsquant.qc.style import A4_PORTRAIT

    out = fit_files([challenge / "datasets_text" / "dataset24.txt"], challenge / "basisset_text_noTMS",
                    outdir=tmp_path_factory.mktemp("fit"), progress=False)
    ds = out["dataset"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mrsquant.qc.style import RC
    with matplotlib.rc_context(RC):           # as render_report draws its pages
        fig = Figure(figsize=A4_PORTRAIT, dpi=100)
        draw_spectrum_page(fig, ds, 0)
        FigureCanvasAgg(fig).draw()
        yield fig, ds


def _boxes(texts, renderer):
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text().strip()]


def test_component_labels_do_not_overlap(page):
    fig, _ = page
    r = fig.canvas.get_renderer()
    comp = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("Metabolite components"))
    labels = _boxes(comp.texts, r)
    labels = [(t, b) for t, b in labels if not t.startswith("not drawn")]
    assert len(labels) >= 10
    for k, (ta, a) in enumerate(labels):
        for tb, b in labels[k + 1:]:
            assert not a.overlaps(b), (ta, tb)
    # and the note beside the title stays clear of the title
    note = [b for t, b in _boxes(comp.texts, r) if t.startswith("not drawn")]
    for b in note:
        assert not b.overlaps(comp._left_title.get_window_extent(r))


def test_axis_labels_not_clipped(page):
    fig, _ = page
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        lab = ax.yaxis.label
        if not lab.get_text():
            continue
        box = lab.get_window_extent(r)
        axbox = ax.get_window_extent(r)
        # a rotated y label longer than its panel runs into the panels above/below
        assert box.y0 >= axbox.y0 - 2 and box.y1 <= axbox.y1 + 2, lab.get_text()
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width


def test_numbers_have_at_most_3_significant_figures(page):
    fig, _ = page
    numbers = []
    for t in fig.texts:      # acquisition values are printed as the header gives them
        if "MHz" in t.get_text():
            continue
        numbers += re.findall(r"(?<![\w.])-?\d+\.\d+(?:e[-+]\d+)?", t.get_text())
    assert len(numbers) > 30

    def sig(x):
        mant = x.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
        return len(mant)
    too_long = [x for x in numbers if sig(x) > 3]
    assert not too_long, too_long[:10]


def test_status_reasons_on_the_page(page):
    fig, ds = page
    status, reasons = str(ds["status"].values[0]), str(ds["reasons"].values[0])
    assert status != "ok" and reasons
    text = "\n".join(t.get_text() for t in fig.texts)
    assert "Why" in text
    first = reasons.split("; ")[0]
    assert first[:30] in text.replace("\n", " ")
