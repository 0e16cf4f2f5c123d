"""Variants of a two-layer Dense classifier on Reuters-shaped data: the classic
Reuters topic-classification study (Deep Learning with Python, section 3.5), automated.

The data is generated here, offline: 46 imbalanced topics, multi-hot bag-of-words
documents over a 2,000-word vocabulary, 8,982 training and 2,246 test newswires (the
Reuters sizes), 1,000 of the training ones held out for validation, a few labels
flipped so the model can overfit them. Five variants take about 40 s of CPU time per
seed (2-layer Dense, 20 epochs plus the retrain). Run it with::

    fitdoc sweep examples/sweep_reuters_like.py -o reuters_like.html
    fitdoc sweep examples/sweep_reuters_like.py --seeds 3    # mean ± std over 3 seeds
"""

import numpy as np

NAME = "Reuters-shaped topics, Dense 2 layers"
VALIDATION = 1000
SEEDS = 1
BASE = {
    "units": 64,
    "layers": 2,
    "activation": "relu",
    "loss": "categorical_crossentropy",
    "optimizer": "rmsprop",
    "learning_rate": 1e-3,
    "batch_size": 512,
    "epochs": 20,
}
VARIANTS = [
    {"name": "64 units (book)"},
    {"name": "32 units", "units": 32},
    {"name": "128 units", "units": 128},
    {"name": "mse loss", "loss": "mse"},
    {"name": "tanh", "activation": "tanh"},
]

N_TRAIN, N_TEST, N_TOPICS, VOCAB = 8982, 2246, 46, 2000


def load_data(seed: int = 4):
    """(x_train, y_train, x_test, y_test): float32 multi-hot rows and integer topics."""
    rng = np.random.default_rng(seed)
    prior = 1.0 / np.arange(1, N_TOPICS + 1) ** 1.3  # a few big topics, a long tail, like Reuters
    prior /= prior.sum()
    background = 1.0 / np.arange(1, VOCAB + 1)  # Zipf word frequencies shared by all topics
    background /= background.sum()
    words = np.empty((N_TOPICS, VOCAB))
    for k in range(N_TOPICS):
        topical = np.zeros(VOCAB)
        topical[rng.choice(np.arange(100, VOCAB), 40, replace=False)] = rng.dirichlet(np.ones(40))
        words[k] = 0.85 * background + 0.15 * topical
    n = N_TRAIN + N_TEST
    y = rng.choice(N_TOPICS, size=n, p=prior)
    x = np.zeros((n, VOCAB), dtype="float32")
    length = rng.poisson(40, size=n).clip(10, 150)
    for k in range(N_TOPICS):
        docs = np.flatnonzero(y == k)
        drawn = rng.choice(VOCAB, size=(len(docs), length.max()), p=words[k])
        keep = np.arange(length.max()) < length[docs, None]
        x[np.repeat(docs, keep.sum(1)), drawn[keep]] = 1.0
    noisy = rng.random(n) < 0.15
    y[noisy] = rng.choice(N_TOPICS, size=noisy.sum(), p=prior)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]
