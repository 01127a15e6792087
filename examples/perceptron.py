"""A perceptron from scratch: fn.matmul, a sigmoid and hand-written gradients.

No nn.Module, no optimizer: the whole model is a weight vector w and a bias b.
For inputs X (N, 2) and labels y in {0, 1}:

    forward   z = X w + b               (N, 1)   the score of each point
              p = sigmoid(z) = 1 / (1 + exp(-z))  the probability of class 1
    loss      L = -mean(y log p + (1 - y) log(1 - p))   binary cross-entropy
    backward  dL/dz = (p - y) / N        (sigmoid and BCE simplify nicely)
              dL/dw = X^T dL/dz          (2, 1)
              dL/db = sum(dL/dz)
    update    w -= lr dL/dw,  b -= lr dL/db   (gradient descent)

The data are two Gaussian blobs, one per class, which a straight line separates.

    python examples/perceptron.py --epochs 200
"""

import argparse

import numpy as np

import fastnn as fn


def make_blobs(n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two round clouds (standard deviation 0.5) around (-1.5, -1.5) (class 0) and (1.5, 1.5)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2  # alternate the classes: balanced
    centres = np.where(y[:, None] == 1, 1.5, -1.5)
    X = centres + 0.5 * rng.standard_normal((n_samples, 2))
    return X.astype(np.float32), y.astype(np.float32)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=400, help="number of points")
    parser.add_argument("--epochs", type=int, default=200, help="gradient descent steps")
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()

    X, y = make_blobs(args.n_samples, args.seed)
    y = y.reshape(-1, 1)  # a column, like z
    n = len(X)

    # Parameters: start from zero (a single neuron has no symmetry to break).
    w = np.zeros((2, 1), dtype=np.float32)
    b = np.float32(0.0)

    for epoch in range(args.epochs):
        # Forward: z = X w + b with fastnn's GEMM, then the sigmoid.
        z = fn.matmul(X, w) + b
        p = sigmoid(z)
        # Binary cross-entropy (clipped so that log never sees 0).
        p_safe = np.clip(p, 1e-7, 1 - 1e-7)
        loss = -np.mean(y * np.log(p_safe) + (1 - y) * np.log(1 - p_safe))

        # Backward, by hand: dL/dz = (p - y) / N, then the chain rule to w and b.
        grad_z = (p - y) / n
        grad_w = fn.matmul(X, grad_z, trans_a=True)  # X^T grad_z, shape (2, 1)
        grad_b = grad_z.sum()

        # Gradient descent step.
        w -= args.lr * grad_w
        b -= args.lr * grad_b

        if epoch % max(1, args.epochs // 5) == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:4d}  loss {loss:.4f}")

    # Predict class 1 where p > 0.5, i.e. where z > 0: the boundary is the line X w + b = 0.
    predictions = fn.matmul(X, w) + b > 0
    accuracy = float(np.mean(predictions == (y == 1)))
    print(f"boundary: {w[0, 0]:.3f} x1 + {w[1, 0]:.3f} x2 + {float(b):.3f} = 0")
    print(f"training accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
