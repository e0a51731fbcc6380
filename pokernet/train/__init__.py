"""Training and evaluation: recipes (recipe.py), data (data.py), the engine (engine.py), CLIs."""
