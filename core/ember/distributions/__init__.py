"""``ember.distributions``: probability distributions with PyTorch's interface (``torch.distributions``).

Each distribution has ``sample``/``rsample`` (reparameterised, differentiable, where PyTorch has it),
``log_prob``, ``entropy``, ``mean``, ``mode``, ``variance``/``stddev``, ``batch_shape``/``event_shape``,
and validates its arguments (ValueError) unless ``validate_args=False``. Values are checked against
PyTorch's in tests/distributions; random draws come from ember's own streams (``ember.manual_seed``).
"""

from . import constraints, transforms  # noqa: F401
from .continuous import Beta, Dirichlet, Exponential, Gamma, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .transformed import LogNormal, TransformedDistribution
from .transforms import AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, TanhTransform, Transform

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Beta", "Dirichlet", "Bernoulli",
           "Categorical", "OneHotCategorical", "MultivariateNormal", "Independent", "TransformedDistribution",
           "LogNormal", "kl_divergence", "register_kl", "constraints", "transforms", "Transform", "ExpTransform",
           "AffineTransform", "SigmoidTransform", "TanhTransform", "ComposeTransform"]
