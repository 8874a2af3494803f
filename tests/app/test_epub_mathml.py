"""EPUB maths (MathML) is kept as readable text instead of leaving holes in sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.importers import import_file

MATHML = 'xmlns="http://www.w3.org/1998/Math/MathML"'

CHAPTER = f"""<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Matrices</title></head><body>
<h1>Matrices</h1>
<p>An <math {MATHML} alttext="m \\times n"><mi>m</mi><mo>×</mo><mi>n</mi></math> matrix is a
rectangular layout of numbers from <math {MATHML}><mi mathvariant="double-struck">R</mi></math>
having <math {MATHML}><mi>m</mi></math> rows and <math {MATHML}><mi>n</mi></math> columns.</p>
<p>Its norm is <math {MATHML} display="block"><msqrt><mrow><munderover><mo>∑</mo><mrow><mi>i</mi>
<mo>=</mo><mn>1</mn></mrow><mi>m</mi></munderover><msubsup><mi>a</mi><mi>i</mi><mn>2</mn></msubsup>
</mrow></msqrt></math> and its inverse is <math {MATHML}><msup><mi>A</mi><mrow><mo>−</mo><mn>1</mn>
</mrow></msup><mo>=</mo><mfrac><mn>1</mn><mrow><mo>det</mo><mi>A</mi></mrow></mfrac><mtext>adj</mtext><mi>A</mi>
</math>.</p>
<p>Only an alttext: <math {MATHML} alttext="x^2"><semantics><annotation encoding="application/x-tex">x^2
</annotation></semantics></math> stays.</p>
</body></html>"""


def build_math_epub(path: Path) -> Path:
    epub = pytest.importorskip("ebooklib.epub")
    book = epub.EpubBook()
    book.set_identifier("urn:uuid:0f0e0d0c-0b0a-0908-0706-050403020100")
    book.set_title("Linear Algebra Notes")
    book.set_language("en")
    book.add_author("Ada Writer")
    chapter = epub.EpubHtml(title="Matrices", file_name="matrices.xhtml", lang="en")
    chapter.set_content(CHAPTER)
    chapter.properties.append("mathml")
    book.add_item(chapter)
    book.toc = [epub.Link("matrices.xhtml", "Matrices", "matrices")]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", chapter]
    epub.write_epub(str(path), book)
    return path


def test_mathml_becomes_readable_text(tmp_path):
    doc = import_file(build_math_epub(tmp_path / "algebra.epub"))
    text = " ".join(" ".join(s.text for s in doc.sections).split())
    assert "An m×n matrix is a rectangular layout of numbers from R having m rows and n columns." in text
    assert "Its norm is √(∑_(i = 1)^m a_i^2) and its inverse is A^(−1) = 1/(det A) adj A." in text
    assert "Only an alttext: x^2 stays." in text
