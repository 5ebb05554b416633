"""The namelist parser's string masking (regex, issue 21 speed) gives what a character-by-character
scan of Fortran strings gives, including doubled quotes and an unclosed string."""
import random

from mrsquant.io.lcmodel import _mask_strings


def _scan(text: str) -> str:
    out, inside, i = list(text), False, 0
    while i < len(text):
        c = text[i]
        if c == "'":
            if inside and i + 1 < len(text) and text[i + 1] == "'":
                out[i] = out[i + 1] = "_"
                i += 2
                continue
            inside = not inside
        elif inside:
            out[i] = "_"
        i += 1
    return "".join(out)


def test_mask_equals_scan_on_random_text():
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice("ab '=,$\n") for _ in range(rng.randint(0, 30)))
        assert _mask_strings(text) == _scan(text), repr(text)


def test_mask_examples():
    assert _mask_strings(" ID='a$END''b', X=1") == " ID='" + "_" * 8 + "', X=1"
    assert _mask_strings("TITLE='open") == "TITLE='____"
