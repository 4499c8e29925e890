import pytest

from medaug.data.yaml_lines import format_path, load_yaml

TEXT = """\
seed: 1
source:
  type: shapes
  shape: [4, 4]
simulation:
  - type: a
  - type: b
    coils: 8
"""


def test_lines_of_nested_keys():
    document = load_yaml("c.yaml", text=TEXT)
    assert document.line_of(("seed",)) == 1
    assert document.line_of(("source", "shape")) == 4
    assert document.line_of(("simulation", 1)) == 7
    assert document.line_of(("simulation", 1, "coils")) == 8


def test_missing_key_points_at_parent():
    document = load_yaml("c.yaml", text=TEXT)
    assert document.line_of(("source", "num_classes")) == 2


def test_data_matches_safe_load():
    import yaml

    assert load_yaml("c.yaml", text=TEXT).data == yaml.safe_load(TEXT)


def test_invalid_yaml_names_line():
    with pytest.raises(ValueError, match=r"c\.yaml:2:\d+: invalid YAML"):
        load_yaml("c.yaml", text="a: 1\nb: c: d\n")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_yaml(tmp_path / "absent.yaml")


def test_empty_document():
    assert load_yaml("e.yaml", text="").data is None


def test_format_path():
    assert format_path(("a", 0, "b", 2)) == "a[0].b[2]"
    assert format_path(()) == "<top level>"
