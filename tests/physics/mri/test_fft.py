import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.physics.mri.fft import complex_to_real, fftnc, ifftnc, real_to_complex
from medaug.physics.operators import LambdaOperator, adjoint_mismatch


def _random_complex(shape, seed, dtype=torch.complex128):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, dtype=dtype, generator=generator)


@pytest.mark.parametrize("n", [1, 4, 5, 7, 8])
def test_centred_delta_gives_constant_zero_phase(n):
    x = torch.zeros(n, n, dtype=torch.complex128)
    x[n // 2, n // 2] = 1.0
    k = fftnc(x)
    # Orthonormal: every coefficient is 1/N for an N x N grid; exact up to rounding.
    assert torch.allclose(k.real, torch.full((n, n), 1.0 / n, dtype=torch.float64), atol=1e-15)
    assert torch.allclose(k.imag, torch.zeros(n, n, dtype=torch.float64), atol=1e-15)


@pytest.mark.parametrize("shape", [(6, 7), (5, 5, 4), (3, 8, 9)])
def test_parseval_and_inverse(shape):
    x = _random_complex(shape, 0)
    k = fftnc(x, axes=tuple(range(-len(shape), 0)))
    # float64 rounding on a few hundred terms stays below 1e-12 relative.
    assert torch.allclose(torch.linalg.vector_norm(k), torch.linalg.vector_norm(x), rtol=1e-12)
    back = ifftnc(k, axes=tuple(range(-len(shape), 0)))
    assert torch.allclose(back, x, atol=1e-12)


def test_fft_matches_explicit_dft_odd_and_even():
    for n in (5, 6):
        x = _random_complex((n,), n)
        centre = n // 2
        index = np.arange(n) - centre
        matrix = np.exp(-2j * np.pi * np.outer(index, index) / n) / np.sqrt(n)
        expected = matrix @ x.numpy()
        assert np.allclose(fftnc(x, axes=0).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("shape", [(9, 10), (4, 5, 6)])
def test_fft_adjoint_identity(shape):
    axes = tuple(range(-len(shape), 0))
    operator = LambdaOperator(lambda v: fftnc(v, axes), lambda v: ifftnc(v, axes))
    mismatch = adjoint_mismatch(operator, _random_complex(shape, 1), _random_complex(shape, 2))
    # Double precision: the normalised mismatch is a few ulps.
    assert mismatch < 1e-13


def test_fft_complex64_adjoint_to_float_precision():
    operator = LambdaOperator(lambda v: fftnc(v), lambda v: ifftnc(v))
    x = _random_complex((2, 16, 17), 3, torch.complex64)
    y = _random_complex((2, 16, 17), 4, torch.complex64)
    # complex64: relative rounding about 1e-7 times log2(N).
    assert adjoint_mismatch(operator, x, y) < 1e-5


def test_fft_rejects_real_input():
    with pytest.raises(TypeError, match="`x` must be a complex tensor"):
        fftnc(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="`k` must be a complex tensor"):
        ifftnc(torch.zeros(4, 4))


def test_fft_rejects_bad_axes():
    x = torch.zeros(4, 4, dtype=torch.complex64)
    with pytest.raises(ValueError, match="out of range"):
        fftnc(x, axes=(2,))
    with pytest.raises(ValueError, match="must not repeat"):
        fftnc(x, axes=(0, -2))


def test_fft_keeps_device_and_dtype(device):
    x = torch.ones(3, 4, dtype=torch.complex64, device=device)
    k = fftnc(x)
    assert k.dtype == torch.complex64
    assert k.device.type == device


def test_fft_is_differentiable():
    x = _random_complex((4, 5), 5).requires_grad_(True)
    loss = fftnc(x).abs().pow(2).sum()
    loss.backward()
    # d/dx of |F x|^2 = |x|^2 (unitary) is 2 x in the Wirtinger convention torch uses.
    assert torch.allclose(x.grad, 2 * x.detach(), atol=1e-12)


def test_complex_real_round_trip_layouts():
    x = _random_complex((2, 3, 4), 6, torch.complex64)
    last = complex_to_real(x)
    assert last.shape == (2, 3, 4, 2)
    assert torch.equal(last[..., 0], x.real)
    channel = complex_to_real(x, axis=1)
    assert channel.shape == (2, 2, 3, 4)
    assert torch.equal(channel[:, 1], x.imag)
    assert torch.equal(real_to_complex(channel, axis=1), x)
    assert torch.equal(real_to_complex(last), x)


def test_real_to_complex_rejects_bad_input():
    with pytest.raises(ValueError, match="must have size 2"):
        real_to_complex(torch.zeros(3, 4), axis=0)
    with pytest.raises(TypeError, match="real floating-point"):
        real_to_complex(torch.zeros(2, 3, dtype=torch.complex64), axis=0)
    with pytest.raises(TypeError, match="real floating-point"):
        real_to_complex(torch.zeros(2, 3, dtype=torch.int64), axis=0)
    with pytest.raises(TypeError, match="must be a complex tensor"):
        complex_to_real(torch.zeros(2, 3))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=3), st.integers(0, 2**31 - 1))
def test_fft_inverse_property(shape, seed):
    x = _random_complex(tuple(shape), seed)
    axes = tuple(range(len(shape)))
    # Round trip of a unitary transform in float64.
    assert torch.allclose(ifftnc(fftnc(x, axes), axes), x, atol=1e-12)
