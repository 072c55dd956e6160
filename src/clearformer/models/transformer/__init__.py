"""The paper's Transformer (Vaswani et al. 2017): make_model, training pieces, decoding."""
