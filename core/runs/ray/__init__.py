"""The Ray runner: each run trains in a Ray actor somewhere on a cluster; the queue and the store stay here.

- The app's queue (positions, per-user caps, challenge rules) is unchanged: each slot of the base
  ``Runner`` owns one warm actor (TensorFlow imported, data sets pulled from the object store) and takes the
  next run only once Ray has placed that actor. A slot the cluster has no free CPUs for waits, so the
  number of runs at once follows the cluster's free CPUs, capped by the number of slots.
- The actor trains with the same trainer (``RunRecorder`` callback) as the other runners, on the worker's
  copy of the run, whose events wait in an in-actor log. The slot thread here follows it through the
  same relay (core.runs.relay) as the process runner's: it long-polls the actor for the events since the
  last one it saw, applies them in order to the Run object the pages read, and passes Pause, Resume and
  Stop on to the actor between polls; the trainer checks them after every batch.
- Nothing the server needs stays on a worker's disk: the model is saved to a scratch folder that is
  read back as bytes and deleted, and the bytes come back through Ray to this server's store. Data sets
  travel through the object store: put once here, pulled once per node, shared by the actors there.
- Actors are named and detached in a namespace of this store: after a web-server restart, the new server
  finds the runs they are still training (or finished meanwhile) and follows them again.

One module a job: ``cluster`` (joining the cluster, its head's and nodes' health), ``actor`` (the training
actor on a node), ``runner`` (``RayRunner``, on the web server). This package imports without Ray.
"""

from core.runs.ray.runner import RayRunner

__all__ = ["RayRunner"]
