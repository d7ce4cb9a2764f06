"""Reading runs: coaching on the curves, comparing runs, mistakes, and looking inside a trained model."""
