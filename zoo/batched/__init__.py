"""Training several seeds of one model at once, each exactly as its own solo run would.

A 2 -> 10 -> 10 -> 1 step on 800 points costs far more in Python and dispatch than in
arithmetic, so K seeds trained one after another pay that overhead K times. Here the K copies'
weights are stacked ([K, out, in]) and every step runs once for all of them.

Which models: those that ``torch.fx`` traces to a graph of ``nn.Linear`` layers, element-wise
activations and element-wise arithmetic, with no buffers (no batch norm) and no randomness (no
dropout). :func:`zoo.batched.batch_plan.batch_plan` says whether a model qualifies; others train
one seed at a time with the ordinary trainer.

``batch_plan`` decides and traces; ``stacked`` rewrites the traced graph for stacked weights
(and holds the fast kernels); ``stacked_ops`` holds the exact stacked operations;
``batched_trainer`` runs the shared loop over them. On the CPU, a model that is a plain chain of
Linear layers and activations (:meth:`batch_plan.BatchPlan.chain`) runs by a formulation written
for it, chunks of members with a hand-written backward on the flat weights of ``chain``:
``exact_chain`` (the default, each kernel probed to round as the solo run's) or, with
``exact=False``, ``fast_chain`` (within rounding of the exact numbers, faster), whose members
step with ``stacked_optim.StackedSGD`` when they all use SGD.

Exactness: every stacked operation reproduces, for each seed, the rounding of its solo run (see
:mod:`zoo.batched.stacked_ops`), so on a given machine and thread count each seed ends with the
weights its own ``zoo train`` run ends with, bit for bit.
"""
