"""Simulated label noise with known truth, for testing pipelines and benchmarking."""

from labelaudit.noise._crowd import Crowd, simulate_crowd
from labelaudit.noise._generate import generate_noise_matrix, make_noisy_labels

__all__ = ["Crowd", "generate_noise_matrix", "make_noisy_labels", "simulate_crowd"]
