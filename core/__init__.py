"""CNN Playground engine: architecture specs, data sets, training runs and the run store.

Pure Python: nothing here imports Streamlit. Keras is imported only by the modules that train.
"""
