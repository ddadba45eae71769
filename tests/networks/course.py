"""The course's L-layer network, written out as its notebooks write it: examples as columns,
parameters in a dict, LINEAR->RELU ... LINEAR->SIGMOID forward, the cost from the probabilities,
the backward pass from dAL = -(Y/AL - (1-Y)/(1-AL)). Independent of logicat on purpose: the
reference logicat's networks are checked against.

One liberty, for speed only: dA0 (the gradient by the input, computed and never used by the
course) is not computed.
"""

# The course's own names and its legacy global RNG (np.random.seed), on purpose: its draws
# are the reference numbers.
# ruff: noqa: E741, NPY002

from __future__ import annotations

import numpy as np


def initialize(layer_dims, seed, scheme):
    """``initialize_parameters`` (scheme "small": randn * 0.01) and ``initialize_parameters_deep``
    ("deep": randn / sqrt(n_{l-1})), after ``np.random.seed(seed)``."""
    np.random.seed(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        W = np.random.randn(layer_dims[l], layer_dims[l - 1])
        parameters["W" + str(l)] = W * 0.01 if scheme == "small" else W / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def forward(X, parameters):
    caches, A, L = [], X, len(parameters) // 2
    for l in range(1, L):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        caches.append((A, W, Z))
        A = np.maximum(0, Z)
    W, b = parameters["W" + str(L)], parameters["b" + str(L)]
    Z = np.dot(W, A) + b
    caches.append((A, W, Z))
    return 1 / (1 + np.exp(-Z)), caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = (1.0 / m) * (-np.dot(Y, np.log(AL).T) - np.dot(1 - Y, np.log(1 - AL).T))
    return float(np.squeeze(cost))


def backward(AL, Y, caches):
    grads, L, m = {}, len(caches), AL.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in reversed(range(L)):
        A_prev, W, Z = caches[l]
        if l == L - 1:  # sigmoid_backward
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        else:  # relu_backward
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
        grads["dW" + str(l + 1)] = 1.0 / m * np.dot(dZ, A_prev.T)
        grads["db" + str(l + 1)] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
        if l > 0:
            dA = np.dot(W.T, dZ)
    return grads


def L_layer_model(X, Y, layer_dims, learning_rate, num_iterations, seed=1, scheme="deep"):
    """X (n_x, m) C-contiguous, Y (1, m). Returns (parameters, the cost of every iteration)."""
    parameters = initialize(layer_dims, seed, scheme)
    costs = []
    for _ in range(num_iterations):
        AL, caches = forward(X, parameters)
        costs.append(compute_cost(AL, Y))
        grads = backward(AL, Y, caches)
        for l in range(1, len(parameters) // 2 + 1):
            parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
            parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters, np.array(costs)


def predict(X, parameters):
    AL, _ = forward(X, parameters)
    return (AL > 0.5).astype(int)
