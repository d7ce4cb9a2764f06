"""The model as data: the layer registry and Keras-free analysis (spec), presets, and Keras code generation."""
