"""The ``ember train`` main job as a library: configuration, data, models, the loop and checkpoints.

``ember.commands.train`` / ``evaluate`` / ``predict`` are thin command-line layers over this package,
so the same run can be driven from Python (``run_training(TrainConfig(...))``).
"""

from .config import TrainConfig, TrainError
from .loop import EpochResult, TrainResult, evaluate_model, run_training

__all__ = ["TrainConfig", "TrainError", "run_training", "evaluate_model", "TrainResult", "EpochResult"]
