import numpy as np
import pytest

from medaug.core.fields import LabelMap
from medaug.core.sample import Sample
from medaug.data.config import parse_config
from medaug.data.errors import ConfigError


def relabel(groups):
    data = {"source": {"type": "shapes"}, "simulation": [{"type": "relabel", "groups": groups}]}
    return parse_config(data).simulation[0]


def test_groups_merge_in_order():
    sample = Sample({"label": LabelMap(np.array([[[0, 1, 2, 3, 4]]], np.uint8))})
    out = relabel({"soft": [1, 2], "bone": [4]}).apply(sample)
    assert out["label"].data.tolist() == [[[0, 1, 1, 0, 2]]]
    assert out.history[-1].name == "relabel"


def test_label_in_two_groups_rejected():
    with pytest.raises(ConfigError, match=r"`simulation\[0\].groups`: label 2 is in groups 'a' and 'b'"):
        relabel({"a": [1, 2], "b": [2]})


def test_empty_group_rejected():
    with pytest.raises(ConfigError, match="group 'a' lists no label values"):
        relabel({"a": []})
