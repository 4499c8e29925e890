import numpy as np
import pytest
import torch

import medaug.phantoms as phantoms
from medaug.data.config import parse_config
from medaug.data.steps.phantom_images import dominant_label

pytest.importorskip("medaug.phantoms.generators.head")

SHAPE, FOV = (48, 48), 240.0


def source(contrast):
    data = {"seed": 0, "source": {"type": "phantom", "generator": "procedural_head", "shape": list(SHAPE),
                                  "fov_mm": FOV, "contrast": contrast}}
    return parse_config(data).source


def draw(contrast, seed=5):
    return source(contrast).make(np.random.default_rng(seed), 0)


def phantom(seed=5):
    return phantoms.procedural_head(np.random.default_rng(seed), ndim=2)


def test_label_equals_phantom_label_map():
    sample = draw({"type": "none"})
    expected = phantom().label_map(SHAPE, FOV, supersample=2)
    assert torch.equal(sample["label"].data, expected.data)


def test_dominant_label_ties_go_to_lower_label():
    fractions = phantoms.procedural_head(np.random.default_rng(1), ndim=2).tissue_fractions((8, 8), FOV)
    fractions = fractions.replace(data=torch.full((3, 2, 2), 0.5))
    assert bool((dominant_label(fractions) == 0).all())


def test_spin_echo_equals_library_maps():
    contrast = {"type": "spin_echo", "tr_ms": 2000, "te_ms": 80, "field_strength_t": 1.5}
    sample = draw(contrast)
    maps = phantoms.mr_parameter_maps(phantom(), SHAPE, FOV, field_strength_t=1.5, supersample=2)
    from medaug.physics.mri import spin_echo

    t1, t2 = maps["t1_ms"].data, maps["t2_ms"].data
    expected = spin_echo(maps["proton_density"].data, torch.where(t1 > 0, t1, 1.0), torch.where(t2 > 0, t2, 1.0),
                         tr_ms=2000, te_ms=80).to(torch.float32)
    # Same fractions and the same formulas; only float32 summation order may differ.
    torch.testing.assert_close(sample["image"].data, expected, rtol=1e-6, atol=1e-7)


def test_hounsfield_equals_library_map():
    sample = draw({"type": "hounsfield", "energy_kev": 60})
    expected = phantoms.hounsfield_map(phantom(), SHAPE, FOV, 60.0, supersample=2)
    # Float32 fraction weighting in a different summation order: 1e-3 HU is far below any CT noise.
    torch.testing.assert_close(sample["image"].data, expected.data.to(torch.float32), rtol=0, atol=1e-3)
