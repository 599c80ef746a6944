"""``TrainConfig``: everything that decides a training run, stored in each checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from types import SimpleNamespace

__all__ = ["TrainConfig", "TrainError", "TrainingDiverged", "DEFAULTS", "DEFAULT_EPOCHS"]


class TrainError(ValueError):
    """A problem with the user's input to a training job (bad option, data, or checkpoint): one line."""


class TrainingDiverged(TrainError):
    """The loss blew up (non-finite, or orders of magnitude above where it started): the run stopped."""


DEFAULT_EPOCHS = {"digits": 20, "mnist": 15, "fashion-mnist": 15}  # enough to converge on each, no more


@dataclass
class TrainConfig:
    """The defaults are the main job: the seed MLP on the bundled digits, reaching >= 96% held-out
    accuracy in seconds on a laptop.

    ``epochs=None`` is the data set's default (:data:`DEFAULT_EPOCHS`); ``lr=None`` / ``momentum=None``
    are the optimizer's (see :func:`ember.train.optimizers.optimizer_defaults`: SGD 0.01 with momentum
    0.9, every other optimizer its own signature's default, as in PyTorch: Adam 1e-3, RMSprop 1e-2...).
    They are filled in when the config is made, so a checkpoint records the values actually used.
    """
    model: str = "mlp"            # mlp | cnn
    data: str = "digits"          # digits | mnist | fashion-mnist
    root: str | None = None       # where mnist / fashion-mnist IDX files are (None: found, see ember.datasets.locate)
    epochs: int | None = None
    batch_size: int = 32
    optimizer: str = "SGD"        # any registered optimizer, matched case-insensitively
    lr: float | None = None
    momentum: float | None = None  # passed to optimizers that take a momentum option, when set
    hidden: int = 256             # width of the MLP's hidden layer
    seed: int = 0
    test_fraction: float = 0.2    # held-out share for data sets without their own test split

    def __post_init__(self):
        if self.epochs is None:
            self.epochs = DEFAULT_EPOCHS.get(self.data, DEFAULT_EPOCHS["digits"])
        if self.lr is None or self.momentum is None:
            from .optimizers import optimizer_defaults
            defaults = optimizer_defaults(self.optimizer)
            if self.lr is None:
                self.lr = defaults["lr"]
            if self.momentum is None:
                self.momentum = defaults.get("momentum")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def check(self) -> "TrainConfig":
        """Raise TrainError naming the first option out of range."""
        if self.model not in MODELS:
            raise TrainError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.data not in DATASETS:
            raise TrainError(f"unknown data set {self.data!r}; choose one of {', '.join(DATASETS)}")
        if self.epochs < 0:
            raise TrainError(f"--epochs must be >= 0, got {self.epochs}")
        if self.batch_size <= 0:
            raise TrainError(f"--batch-size must be positive, got {self.batch_size}")
        if not self.lr > 0:
            raise TrainError(f"--lr must be positive, got {self.lr}")
        if self.hidden <= 0:
            raise TrainError(f"--hidden must be positive, got {self.hidden}")
        if not 0 < self.test_fraction < 1:
            raise TrainError(f"test_fraction must be between 0 and 1, got {self.test_fraction}")
        return self


MODELS = ("mlp", "cnn")
DATASETS = ("digits", "mnist", "fashion-mnist")
DEFAULTS = SimpleNamespace(**{f.name: f.default for f in fields(TrainConfig)})  # as declared, unresolved (--help)
