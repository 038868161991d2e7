"""Word's own furniture for the report's Word file: fields (page numbers, contents), the
marking in header and footer, tables that repeat their heads, shaded cells (python-docx).

Kept apart from the report's sections so each section reads as what it says.
"""

from __future__ import annotations

from typing import Any

from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from .office import paragraphs

Doc = dict[str, Any]


def add_contents(word: WordDocument) -> None:
    """A contents list before the first section: Word's TOC field over the Heading 1s, shown
    until Word updates it (F9, or on printing) as the sections' titles without page numbers."""
    headings = [p for p in word.paragraphs
                if p.style is not None and p.style.name == "Heading 1"]
    if not headings:
        return
    first = headings[0]
    first.insert_paragraph_before("Contents", style="TOC Heading" if _has_style(
        word, "TOC Heading") else "Heading 1").paragraph_format.keep_with_next = True
    for i, heading in enumerate(headings):
        entry = first.insert_paragraph_before()
        if i == 0:
            _field_start(entry, 'TOC \\o "1-1" \\h \\z \\u')
        entry.add_run(heading.text)
        if i == len(headings) - 1:
            _field_end(entry)


def _has_style(word: WordDocument, name: str) -> bool:
    return any(style.name == name for style in word.styles)


def _field_start(paragraph: Paragraph, code: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, f" {code} "), ("separate", None)):
        run._r.append(_field_part(kind, text))


def _field_end(paragraph: Paragraph) -> None:
    paragraph.add_run()._r.append(_field_part("end", None))


def _field_part(kind: str | None, code: str | None) -> Any:
    if kind:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
    else:
        element = OxmlElement("w:instrText")
        element.set(qn("xml:space"), "preserve")
        element.text = code
    return element


def add_page_furniture(word: WordDocument, doc: Doc) -> None:
    section = word.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Mm(18)
    marking = doc.get("marking") or ""
    head = section.header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _bold(head, marking)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _bold(foot, marking)
    pages = section.footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    pages.add_run("Page ")
    _field(pages, "PAGE", "1")
    pages.add_run(" of ")
    _field(pages, "NUMPAGES", "1")


def _bold(paragraph: Paragraph, text: str) -> None:
    run = paragraph.add_run(text)
    run.bold = True


def _field(paragraph: Paragraph, code: str, shown: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in as it lays the pages out."""
    _field_start(paragraph, code)
    paragraph.add_run(shown)
    _field_end(paragraph)


def write_text(word: WordDocument, text: str) -> None:
    """Authored or programme text: its paragraphs as paragraphs and its '- ' lines as bullets."""
    for kind, body in paragraphs(text):
        word.add_paragraph(body, style="List Bullet" if kind == "item" else None)


def write_bullets(word: WordDocument, items: list[str]) -> None:
    for item in items:
        word.add_paragraph(item, style="List Bullet")


TEXT_WIDTH = 174.0


def write_table(word: WordDocument, caption: str, head: list[str], rows: list[list[Any]],
           widths: tuple[float, ...] = ()) -> Table:
    """A captioned table, head row repeated on each page; `widths` gives the first columns'
    widths in millimetres and the others share what is left of the page."""
    word.add_paragraph(caption, style="Caption")
    table = word.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(8)
    _repeat_header(table)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = str(value)
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)
    rest = len(head) - len(widths)
    share = (TEXT_WIDTH - sum(widths)) / rest if rest else 0
    for i, column in enumerate(table.columns):
        width = Mm(widths[i] if i < len(widths) else share)
        column.width = width
        for cell in column.cells:
            cell.width = width
    return table


def _repeat_header(table: Table) -> None:
    """The head row repeats at the top of each page the table runs onto."""
    props = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    props.append(header)


def shade_cell(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)
