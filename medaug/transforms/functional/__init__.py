"""Pure functions behind the transforms: coordinate maps, resampling, intensity maths."""
