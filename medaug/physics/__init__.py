"""Forward models: linear operators, noise models, MRI, CT and optics."""
