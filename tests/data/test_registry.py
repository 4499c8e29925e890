from typing import Literal

import pytest

from medaug.data.config import parse_config
from medaug.data.errors import ConfigError
from medaug.data.registry import (
    StepConfig,
    available_steps,
    get_step_model,
    register_lazy_step,
    register_step,
)
from tests.data.helpers import seg_config


def test_builtins_registered():
    assert {"shapes", "images"} <= set(available_steps("source"))
    assert {"fastmri", "nnunet", "zarr"} <= set(available_steps("writer"))


def test_register_custom_step():
    @register_step("augmentation", "test_identity")
    class Identity(StepConfig):
        type: Literal["test_identity"] = "test_identity"

        def build(self, context):
            return lambda sample, rng: sample

    config = parse_config(seg_config(augmentation=[{"type": "test_identity"}]))
    assert isinstance(config.augmentation[0], Identity)


def test_lazy_step_imports_on_use():
    register_lazy_step("writer", "test_lazy_zarr", "medaug.data.writers.zarr_store:ZarrWriterConfig")
    assert get_step_model("writer", "test_lazy_zarr").__name__ == "ZarrWriterConfig"


def test_lazy_target_format():
    with pytest.raises(ValueError, match="`target` must look like 'package.module:ClassName'"):
        register_lazy_step("writer", "x", "no_colon")


def test_unknown_kind():
    with pytest.raises(ValueError, match="`kind` must be one of source, simulation"):
        available_steps("output")


def test_register_rejects_non_model():
    with pytest.raises(TypeError, match="must subclass StepConfig"):
        register_step("source", "x")(dict)


def test_unknown_type_lists_known():
    with pytest.raises(ValueError, match="unknown writer type 'nifti'; known types: .*nnunet"):
        get_step_model("writer", "nifti")


def test_step_must_be_mapping():
    with pytest.raises(ConfigError, match=r"`simulation\[0\]`: must be a mapping with a `type` key, got 3"):
        parse_config(seg_config(simulation=[3]))
