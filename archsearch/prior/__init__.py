"""The prior: scores that rank channel layouts for a task under a parameter budget, without training."""
