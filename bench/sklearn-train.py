#!/usr/bin/python3
"""The scikit-learn anchor of the `training` bench suite.

Reads DIR/train.csv and DIR/test.csv (features, then the class index as the last column),
trains the scikit-learn counterpart of each configuration named in DIR/configs.json, and
prints JSON: per configuration the median fit time (ms) over REPS runs and the held-out
accuracy. Single-threaded (OMP_NUM_THREADS=1 is set by the caller) to match kmlib.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def make(cfg):
    kind, p = cfg["kind"], cfg["params"]
    if kind == "tree":
        return DecisionTreeClassifier(max_depth=p.get("maxDepth"), random_state=0)
    if kind == "forest":
        return RandomForestClassifier(n_estimators=p["nTrees"], max_depth=p.get("maxDepth"), max_features="sqrt", n_jobs=1, random_state=0)
    if kind == "boosted":
        return HistGradientBoostingClassifier(max_iter=p["nRounds"], max_depth=p["maxDepth"], max_leaf_nodes=None, learning_rate=0.1,
                                              min_samples_leaf=20, l2_regularization=1.0, max_bins=255, early_stopping=False, random_state=0)
    if kind == "linear":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if kind == "mlp":
        return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=tuple(p["hidden"]), solver="adam", batch_size=64,
                                                             learning_rate_init=1e-3, max_iter=p["epochs"], random_state=0))
    raise SystemExit(f"unknown kind {kind}")


def main():
    d = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    configs = json.load(open(f"{d}/configs.json"))
    data = {}
    out = {}
    for cfg in configs:
        split = cfg["data"]
        if split not in data:
            tr = np.loadtxt(f"{d}/{split}-train.csv", delimiter=",", skiprows=1)
            te = np.loadtxt(f"{d}/{split}-test.csv", delimiter=",", skiprows=1)
            data[split] = (tr[:, :-1], tr[:, -1].astype(int), te[:, :-1], te[:, -1].astype(int))
        xtr, ytr, xte, yte = data[split]
        times = []
        for _ in range(reps):
            m = make(cfg)
            t0 = time.perf_counter()
            m.fit(xtr, ytr)
            times.append((time.perf_counter() - t0) * 1000)
        acc = float((m.predict(xte) == yte).mean())
        out[cfg["name"]] = {"ms": float(np.median(times)), "accuracy": acc, "samples": times}
    print(json.dumps(out))


main()
