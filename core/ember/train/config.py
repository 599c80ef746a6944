"""``TrainConfig``: everything that decides a training run, stored in each checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

__all__ = ["TrainConfig", "TrainError", "DEFAULTS"]


class TrainError(ValueError):
    """A problem with the user's input to a training job (bad option, data, or checkpoint): one line."""


@dataclass
class TrainConfig:
    """The defaults are the main job: the seed MLP on the bundled digits, reaching >= 96% held-out
    accuracy in seconds on a laptop."""
    model: str = "mlp"            # mlp | cnn
    data: str = "digits"          # digits | mnist | fashion-mnist
    root: str | None = None       # where mnist / fashion-mnist IDX files are
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "SGD"        # any registered optimizer, matched case-insensitively
    lr: float = 0.1
    momentum: float = 0.9         # used when the optimizer takes a momentum option
    hidden: int = 256             # width of the MLP's hidden layer
    seed: int = 0
    test_fraction: float = 0.2    # held-out share for data sets without their own test split

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
        if self.data != "digits" and not self.root:
            raise TrainError(f"--data {self.data} reads IDX files from disk: give their folder with --root DIR")
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
DEFAULTS = TrainConfig()
