"""Tests for medaug.data.sampling: exact strata for any worker split, random draws, bad policies."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from medaug.data.profiles import load_profile_library
from medaug.data.sampling import (
    SamplingConfig,
    factors_for_index,
    permute_index,
    stratum_levels,
    stratum_of,
)

STRATIFIED = {
    "mode": "stratified",
    "factors": {
        "field_strength_t": {"choices": [1.5, 3.0, 7.0]},
        "contrast": {"choices": ["t1_ir_gre", "flair"]},
        "age_years": {"bands": [[20, 40], [40, 60], [60, 90]]},
        "acceleration": {"range": [1, 3]},
    },
    "strata": ["field_strength_t", "contrast", "age_years"],
    "counts": {"per_stratum": 2, "overrides": {"field_strength_t=7|contrast=flair|age_years=60-90": 5}},
}


@pytest.fixture(scope="module")
def stratified() -> SamplingConfig:
    return SamplingConfig.model_validate(STRATIFIED)


def _counts(policy: SamplingConfig, seed: int, indices) -> Counter:
    n = policy.total_count()
    return Counter(factors_for_index(policy, seed, i, n)["stratum"] for i in indices)


def test_stratified_exact_counts(stratified):
    counts = _counts(stratified, 11, range(stratified.total_count()))
    assert counts == Counter(stratified.stratum_counts())
    assert counts["field_strength_t=7|contrast=flair|age_years=60-90"] == 5
    assert len(counts) == 3 * 2 * 3


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_stratified_independent_of_worker_split(stratified, workers):
    n = stratified.total_count()
    serial = [factors_for_index(stratified, 4, i, n) for i in range(n)]
    # Each worker takes a strided share and walks it backwards.
    parallel = {}
    for worker in range(workers):
        for i in reversed(range(worker, n, workers)):
            parallel[i] = factors_for_index(stratified, 4, i, n)
    assert [parallel[i] for i in range(n)] == serial


@settings(max_examples=25, deadline=None)
@given(
    per_stratum=st.integers(1, 4),
    extra=st.integers(1, 6),
    seed=st.integers(0, 2**32),
)
def test_stratified_counts_property(per_stratum, extra, seed):
    data = {
        "mode": "stratified",
        "factors": {"contrast": {"choices": ["t2", "pd", "flair"]}, "age_years": {"bands": [[20, 50], [50, 90]]}},
        "strata": ["contrast", "age_years"],
        "counts": {"per_stratum": per_stratum, "overrides": {"contrast=pd|age_years=50-90": extra}},
        "derive": False,
    }
    policy = SamplingConfig.model_validate(data)
    assert _counts(policy, seed, range(policy.total_count())) == Counter(policy.stratum_counts())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**40))
def test_permute_index_is_bijection(n, seed):
    assert sorted(permute_index(i, n, seed) for i in range(n)) == list(range(n))


def test_permute_index_depends_on_seed():
    first = [permute_index(i, 50, 1) for i in range(50)]
    second = [permute_index(i, 50, 2) for i in range(50)]
    assert first != second


def test_stratified_values_inside_levels(stratified):
    n = stratified.total_count()
    for i in range(n):
        factors = factors_for_index(stratified, 0, i, n)
        label = factors["stratum"]
        assert label == stratum_of(stratified, factors)
        band = label.split("age_years=")[1]
        low, high = (float(v) for v in band.split("-"))
        assert low <= factors["age_years"] < high
        assert 1.0 <= factors["acceleration"] <= 3.0


def test_n_total_must_match_counts(stratified):
    with pytest.raises(ValueError, match=r"`n_total` must equal the sum of the stratum counts, 39, got 40"):
        factors_for_index(stratified, 0, 0, 40)


def test_draw_matches_exact_counts(stratified):
    n = stratified.total_count()
    counts = Counter(stratified.draw(np.random.default_rng(i), i)["stratum"] for i in range(n))
    assert counts == Counter(stratified.stratum_counts())


def test_reproducible_and_index_dependent(stratified):
    n = stratified.total_count()
    assert factors_for_index(stratified, 3, 5, n) == factors_for_index(stratified, 3, 5, n)
    assert factors_for_index(stratified, 3, 5, n) != factors_for_index(stratified, 3, 6, n)
    assert factors_for_index(stratified, 3, 5, n) != factors_for_index(stratified, 4, 5, n)


def test_factors_are_json_serialisable(stratified):
    factors = factors_for_index(stratified, 0, 0, stratified.total_count())
    assert json.loads(json.dumps(factors)) == factors


def test_derived_protocol_inside_profile(stratified):
    library = load_profile_library()
    n = stratified.total_count()
    for i in range(n):
        factors = factors_for_index(stratified, 1, i, n)
        profile = library.mri.contrasts[factors["contrast"]]
        for key in ("tr_ms", "te_ms", "ti_ms", "flip_deg"):
            low, high = getattr(profile, key)
            assert low <= factors[key] <= high
        assert factors["te_ms"] < factors["tr_ms"]
        assert "cortical_thickness_mm" in factors
        assert "ventricle_scale" in factors


def test_random_mode_ranges_and_choices():
    policy = SamplingConfig.model_validate({
        "factors": {
            "kvp": {"choices": [80, 120], "weights": [1, 3]},
            "mas": {"range": [10, 1000], "distribution": "log_uniform"},
            "kernel": {"choices": ["hann", "ram_lak"]},
            "lesion_load": {"choices": ["none", "high"]},
        },
    })
    draws = [factors_for_index(policy, 2, i, 400) for i in range(400)]
    kvp = Counter(d["kvp"] for d in draws)
    mas = np.array([d["mas"] for d in draws])
    assert set(kvp) == {80, 120}
    # Weight 3:1 gives 300 of 400 expected; binomial SD is 8.7, so 5 SD is 43.
    assert abs(kvp[120] - 300) < 43
    assert mas.min() >= 10
    assert mas.max() <= 1000
    # Log-uniform on [10, 1000]: the median is 100; the sample median of 400
    # lies within a factor 1.5 of it with overwhelming probability.
    assert 100 / 1.5 < np.median(mas) < 100 * 1.5
    assert "stratum" not in draws[0]


def test_random_mode_reports_stratum():
    policy = SamplingConfig.model_validate({
        "factors": {"age_years": {"bands": [[20, 50], [50, 90]]}, "sex": {"choices": ["male", "female"]}},
        "strata": ["age_years", "sex"],
    })
    labels = {factors_for_index(policy, 0, i, 50)["stratum"] for i in range(50)}
    assert labels <= set(stratum_levels(policy))
    assert None not in labels


def test_integer_range_and_band():
    policy = SamplingConfig.model_validate({
        "factors": {"acceleration": {"range": [1, 4], "integer": True}, "age_years": {"bands": [[20, 22]], "integer": True}},
    })
    draws = [factors_for_index(policy, 0, i, 100) for i in range(100)]
    assert {d["acceleration"] for d in draws} == {1, 2, 3, 4}
    assert {d["age_years"] for d in draws} == {20, 21}


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        ({"factors": {"age_years": {"bands": [[20, 50], [40, 60]]}}},
         r"factors.age_years.bands\n.*bands \[20, 50\] and \[40, 60\] overlap"),
        ({"factors": {"field_strength_t": {"choices": [1.5, 2.0]}}},
         r"`factors.field_strength_t.choices\[1\]`: unknown field_strength_t 2.0"),
        ({"mode": "stratified", "factors": {"contrast": {"choices": ["t2"]}}, "strata": ["contrast"], "counts": 0},
         r"counts.per_stratum\n.*must be >= 1, got 0: a stratum with no samples is an empty stratum request"),
        ({"factors": {"contrast": {"choices": []}}},
         r"factors.contrast.choices\n.*must list at least one value, got \[\]: an empty stratum request"),
        ({"factors": {"age_years": {"bands": []}}},
         r"factors.age_years.bands\n.*an empty stratum request"),
        ({"mode": "stratified", "factors": {"contrast": {"choices": ["t2"]}}, "strata": ["contrast"],
          "counts": {"per_stratum": 1, "overrides": {"contrast=t2": 0}}},
         r"counts.overrides\n.*count of stratum 'contrast=t2' must be >= 1, got 0"),
        ({"mode": "stratified", "factors": {"contrast": {"choices": ["t2"]}}, "strata": ["contrast"],
          "counts": {"per_stratum": 1, "overrides": {"contrast=pd": 2}}},
         r"`counts.overrides` names unknown stratum 'contrast=pd'"),
        ({"factors": {"acceleration": {"range": [1, 3]}}, "strata": ["acceleration"]},
         r"strata\n.*factor 'acceleration' has a `range`"),
        ({"factors": {"contrast": {"choices": ["t2"]}}, "counts": 3},
         r"`counts` applies to stratified mode only"),
        ({"mode": "stratified", "factors": {"contrast": {"choices": ["t2"]}}},
         r"`strata` must name at least one factor in stratified mode"),
        ({"factors": {"contrast": {"choices": ["t2"], "range": [1, 2]}}},
         r"factors.contrast\n.*give exactly one of `choices`, `range` or `bands`"),
        ({"factors": {"age_years": {"range": [5, 100]}}},
         r"`factors.age_years` must lie within \[18, 95\] years"),
        ({"factors": {"coil": {"choices": ["head_96"]}}},
         r"`factors.coil.choices\[0\]`: unknown coil 'head_96'"),
        ({"profiles": {"contrasts": {"t2": {"te_ms": [80, 3000]}}}},
         r"`contrasts.t2.te_ms`: TE must be shorter than TR"),
    ],
)
def test_bad_policy_names_key(data, pattern):
    with pytest.raises(ValidationError, match=pattern):
        SamplingConfig.model_validate(data)


def test_restricted_profiles_reject_excluded_field():
    with pytest.raises(ValidationError, match=r"`factors.field_strength_t.choices\[0\]`: unknown field_strength_t 7"):
        SamplingConfig.model_validate({
            "profiles": {"field_strengths_t": [1.5, 3.0]},
            "factors": {"field_strength_t": {"choices": [7.0]}},
        })


def test_pipeline_config_error_names_yaml_key():
    from medaug.data.config import parse_config
    from medaug.data.errors import ConfigError

    with pytest.raises(ConfigError, match=r"sampling.factors.age_years.bands"):
        parse_config({
            "seed": 0,
            "source": {"type": "shapes", "shape": [8, 8]},
            "sampling": {"factors": {"age_years": {"bands": [[20, 50], [40, 60]]}}},
        })


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, -1, 4), ValueError, "`index` must be >= 0, got -1"),
        ((0, 4, 4), ValueError, "`index` must be < n_total = 4, got 4"),
        ((0, 1.5, 4), TypeError, "`index` must be an int, got float 1.5"),
        ((-2, 0, 4), ValueError, "`seed` must be >= 0, got -2"),
    ],
)
def test_factors_for_index_bad_arguments(args, error, message):
    policy = SamplingConfig.model_validate({"factors": {"contrast": {"choices": ["t2"]}}})
    with pytest.raises(error, match=message):
        factors_for_index(policy, *args)


def test_factors_for_index_rejects_plain_dict():
    with pytest.raises(TypeError, match="`policy` must be a SamplingConfig, got dict"):
        factors_for_index({"factors": {}}, 0, 0, 1)
