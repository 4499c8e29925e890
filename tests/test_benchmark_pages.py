"""The helper that writes a benchmark's generated section keeps the hand-written text around it."""

from benchmarks.timing import write_generated


def test_section_replaced_text_kept(tmp_path):
    page = tmp_path / "area.md"
    write_generated(page, "bench", "first table")
    assert page.read_text() == "<!-- begin bench -->\nfirst table\n<!-- end bench -->\n"
    page.write_text("# Title\n\nNotes above.\n\n" + page.read_text() + "\nAnalysis below.\n")
    write_generated(page, "bench", "second table\n")
    assert page.read_text() == ("# Title\n\nNotes above.\n\n<!-- begin bench -->\nsecond table\n"
                                "<!-- end bench -->\n\nAnalysis below.\n")
    assert not (tmp_path / "area.md.partial").exists()


def test_section_appended_without_markers(tmp_path):
    page = tmp_path / "area.md"
    page.write_text("# Title\n\nOlder runs.\n")
    write_generated(page, "bench", "table")
    assert page.read_text() == "# Title\n\nOlder runs.\n\n<!-- begin bench -->\ntable\n<!-- end bench -->\n"
