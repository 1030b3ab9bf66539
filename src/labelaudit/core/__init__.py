"""The confident-learning math: pure NumPy on validated arrays, no I/O and no printing.

Functions here assume clean inputs (see ``labelaudit._validation``): ``labels`` int64 in
``[0, K)``, ``pred_probs`` a 2-D float array of probability rows. They never modify inputs.
Work over N x K arrays is done in row chunks so that temporaries stay small.
"""
