"""Datasets as users have them: sorting ImageNet's raw validation layout, checking its classes."""
