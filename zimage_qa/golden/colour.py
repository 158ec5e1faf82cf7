"""sRGB to CIELAB (D65) in numpy, so that colour measures need neither scikit-image nor scipy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_SRGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
_WHITE_D65 = (0.95047, 1.0, 1.08883)
_EPSILON = (6.0 / 29.0) ** 3


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] -> (..., 3) L* in [0, 100], a*, b* roughly in [-128, 127]."""
    import numpy as np

    clipped = np.clip(rgb.astype(np.float32), 0.0, 1.0)
    linear = np.where(clipped <= 0.04045, clipped / 12.92, ((clipped + 0.055) / 1.055) ** 2.4)
    matrix = np.asarray(_SRGB_TO_XYZ, dtype=np.float32).T / np.asarray(_WHITE_D65, dtype=np.float32)
    xyz: np.ndarray = np.matmul(linear.astype(np.float32), matrix)
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), xyz / (3.0 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of (..., 3) RGB: the grey image the structural measures use."""
    import numpy as np

    weights = np.asarray((0.299, 0.587, 0.114), dtype=np.float32)
    return rgb.astype(np.float32) @ weights
