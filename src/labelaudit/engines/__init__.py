"""Drivers that run the core's passes over data held in different ways."""
