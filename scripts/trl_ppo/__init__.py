# Vendored from trl 1.12.0 (trl/experimental/ppo), Apache-2.0: see LICENSE and README.md here.
# trl removed PPOTrainer in 1.13; this copy runs on the project's trl 1.16, importing only
# helpers that trl 1.16 still ships (tests/test_scripts.py checks they are there).
from .ppo_config import PPOConfig
from .ppo_trainer import PPOTrainer

__all__ = ["PPOConfig", "PPOTrainer"]
