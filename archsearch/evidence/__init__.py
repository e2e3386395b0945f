"""Did the prior predict training? Verification, the paper's experiment, result folders and pictures."""
