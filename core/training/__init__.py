"""Training one run: hyperparameters, per-task behaviour, target scaling, the Keras trainer and test evaluation."""
