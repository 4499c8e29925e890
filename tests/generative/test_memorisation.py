"""Trained generators: one that memorises 8 images is flagged, the default one is not.

Training them takes many minutes on a CPU, so these tests are marked slow.
Set ``MEDAUG_TRAINED_RUNS`` to a folder holding finished runs named
``vae_default``, ``vae_memorise`` and ``ddpm_memorise`` (output folders of
the example configs) to evaluate them without training again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from medaug.generative.evaluation import evaluate_synthetic
from medaug.generative.sampling import load_generator
from medaug.generative.training import load_train_config, train_generator
from medaug.generative.training_data import phantom_pairs

CONFIGS = Path(__file__).resolve().parents[2] / "examples" / "configs"
RUNS = {
    "vae_default": "generator_vae_2d.yaml",
    "vae_memorise": "generator_vae_2d_memorise.yaml",
    "ddpm_memorise": "generator_ddpm_2d_memorise.yaml",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    given = os.environ.get("MEDAUG_TRAINED_RUNS")
    if given:
        return {name: Path(given) / name for name in RUNS}
    folder = tmp_path_factory.mktemp("runs")
    paths = {}
    for name, config_file in RUNS.items():
        config = load_train_config(CONFIGS / config_file)
        config = config.model_copy(update={"output": str(folder / name)})
        train_generator(config, progress=False)
        paths[name] = folder / name
    return paths


@pytest.fixture(scope="module")
def reports(runs) -> dict[str, dict]:
    heldout, _ = phantom_pairs(64, 0, first_index=10000)
    output = {}
    for name, run in runs.items():
        train = np.load(run / "data.npz")["images"]
        synthetic, _ = load_generator(run / "checkpoint.pt").sample_arrays(64, np.random.default_rng(1))
        output[name] = evaluate_synthetic(heldout, synthetic, train, np.random.default_rng(0))
    return output


@pytest.mark.slow
def test_generator_trained_on_eight_images_memorises(reports):
    # The diffusion model's samples are too noisy to be flagged as copies, but its
    # 8 training images rank above every held-out image far more often than chance.
    privacy = reports["ddpm_memorise"]["privacy"]
    assert privacy["memorising"]
    assert "membership leakage" in privacy["memorising_criteria"]
    assert privacy["membership_inference"]["leakage_test"]["p_value"] < privacy["membership_alpha"]


@pytest.mark.slow
def test_default_generator_scores_better_on_privacy(reports):
    good, bad = reports["vae_default"]["privacy"], reports["vae_memorise"]["privacy"]
    assert not good["memorising"]
    assert good["memorising_criteria"] == []
    assert good["copy_detection"]["flagged_fraction"] <= bad["copy_detection"]["flagged_fraction"]
    # Samples of the default run lie relatively farther from their training set.
    assert (good["distance_to_closest_record"]["ratio_of_medians"]
            > bad["distance_to_closest_record"]["ratio_of_medians"])
    # Membership is harder to infer from the default run's samples.
    assert good["membership_inference"]["auc"] < bad["membership_inference"]["auc"]
