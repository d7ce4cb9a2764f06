"""BatchNormalization on image maps with TensorFlow's fused kernel while training.

Keras 3 normalises a batch with separate operations (the moments, then the normalisation, each with its
own gradient); TensorFlow's fused kernel does the same arithmetic in one pass. On this project's 2 CPU
cores that cut one training step's BatchNormalization by 2-2.5× (docs/performance.md, issue 23: a
256×13×13×16 batch, forward and backward, 8.2 → 3.2 ms of processor time): a tenth of an epoch of `fast`.

The layer is Keras' own in everything else: the same weights, momentum and epsilon, the plain Keras
path at test time and for inputs the kernel does not take (not 4-D channels-last float32, a mask, renorm,
another backend), and a saved model names keras.layers.BatchNormalization, so it loads anywhere without
this module (and trains on there at Keras' own speed).
"""

from __future__ import annotations

import keras


class BatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization whose training step on image maps runs TensorFlow's fused kernel."""

    def _fused(self, inputs, training, mask) -> bool:
        return (
            bool(training)
            and self.trainable
            and mask is None
            and keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not self.renorm
            and not self.synchronized
            and keras.backend.standardize_dtype(inputs.dtype) == "float32"
            and self.dtype_policy.compute_dtype == "float32"
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
        )
        # The kernel returns the batch's variance with Bessel's correction; Keras averages the plain one.
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), variance.dtype)
        variance = variance * tf.maximum(count - 1.0, 0.0) / tf.maximum(count, 1.0)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs


# Saved as Keras' own class (module and name), so a downloaded model needs nothing from this project.
BatchNormalization.__module__ = "keras.layers"
