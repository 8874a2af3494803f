"""Locas-MLP: a memory of written slots beside every chosen layer's two-layer MLP FFN.

Per layer: ``Mem(a) = V relu(K a + b)`` with ``K: (C, d)``, ``b: (C,)``, ``V: (d, C)`` for a
capacity of C slots, added to the FFN's hidden output (docs/locas-method.md, "Locas-MLP";
docs/locas-mlp.md has the derivations). Unlike Locas-GLU nothing is trained to begin with:
every memorized token *writes* one slot per layer.

Writing a token t (a single forward and backward pass writes every token of a chunk):

* key: the FFN input ``a_t`` of that layer, centered by the window's mean ``mu`` and
  normalized, ``k = (a_t - mu) / ||a_t - mu||``. The slot's pre-activation is
  ``z(a) = (k . (a - mu) - gamma n) / ((1 - gamma) n)`` with ``n = ||a_t - mu||``: exactly 1 on
  its own token and <= 0 wherever the projection of ``a - mu`` on k is below ``gamma n``. That
  is the "locally supported" part: with ``support`` gamma = 0 it is the paper's plain
  ``relu(k . a)``, which fires on half the input space; gamma = 0.5 fires only near the token.
  Centering and the threshold are affine in ``a``, so they fold into ``K`` and ``b``.
* value: ``epsilon`` times the gradient of the log-likelihood with respect to that layer's FFN
  output at the token's position, normalized jointly across hidden size and layers (divided by
  its RMS over all L x d entries), so each token's write has the same size whatever the layer
  count and width. One backward pass of the chunk's log-likelihood gives every layer's and
  every position's gradient; no parameter is updated by a write. To first order the write
  changes the log-likelihood by ``epsilon * sum_l ||g_l||^2 / rms(g) > 0`` on its own token.

The ReLU is realized through the backbone's own activation as ``act(s x) / s`` (s =
``sharpness``): exactly ReLU for OPT's ReLU, within ``0.17 / s`` of it for GELU models. That
makes every slot an ordinary FFN unit (up row ``s k``, up bias ``s b``, down column ``v / s``),
so merging is lossless on every architecture.

Capacity: past C slots per layer, ``compress="backprop"`` (default; the paper finds it as good
and far cheaper) stops writing and trains the C slots by plain backprop, like Locas-GLU, while
``compress="nlsvd"`` shrinks the layer with :func:`locas_engine.mlp.nlsvd.nlsvd_compress` and keeps writing.

Injected through adapters (locas_engine/adapter.py) on the two projections (OPT has no FFN
module to wrap): the up projection's branch records the FFN input, the down projection's adds
the memory's output, so detaching restores the model exactly.

Modules: ``ffn`` finds the MLP FFNs, ``config`` says what a memory is, ``layer`` holds one
layer's slots, ``memory`` is the memory (the :class:`locas_engine.protocol.Memory` protocol)
and its attaching, ``write`` the write rule, ``nlsvd`` the compression, ``merge`` merging.
Nothing here is imported by the Locas-GLU core.
"""
