"""The paper's Transformer (Vaswani et al. 2017): make_model, and decoding it (greedy_decode, generate).

Its training loop (Batch, LabelSmoothing, NoamOpt, run_epoch, data_gen) is the course's, not a library
API: recipes/paper_transformer_training.py.
"""
