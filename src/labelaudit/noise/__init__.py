"""Simulated label noise with known truth, for testing pipelines and benchmarking."""

from labelaudit.noise._generate import generate_noise_matrix, make_noisy_labels

__all__ = ["generate_noise_matrix", "make_noisy_labels"]
