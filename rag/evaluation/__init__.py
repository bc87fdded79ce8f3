"""Measuring and training the answer decision: `evaluate` (the shared scorer's metrics and the corpus
split), `fit` (training rows and the logistic fit), `train` (`make train`), `pairs` (the verifier's
training pairs), `train_verifier` (`make train-verifier`) and `rules_effect` (each hand rule switched
off on validation)."""
