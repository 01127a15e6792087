"""The differentiable ops of API.md's PyTorch subset, written once for fastnn and torch.

Each :class:`Case` is a function ``f(L, F, *xs, **consts)`` of the library module
``L`` (``fastnn`` or ``torch``), its functional module ``F`` and the differentiable
input Tensors ``xs``, returning one Tensor. ``shapes`` gives the inputs' shapes,
``domain`` where their values are drawn (away from kinks and poles), and
``consts`` a function of a NumPy generator giving the non-differentiable inputs
(targets, masks, indices) as arrays. ``tests/test_autograd_ops.py`` checks the
gradients against finite differences and float64, ``tests/test_autograd_torch.py``
against PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Case:
    name: str
    f: Callable[..., Any]
    shapes: tuple
    domain: Any = "any"  # "any" | "pos" | "unit" | "away": per input, or one for all
    consts: Callable[[np.random.Generator], dict] | None = None
    fd_eps: float = 1e-6
    tags: tuple = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return self.name


def draw(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    """Float64 values of ``shape`` in ``domain``, distinct and away from 0 (no ties, no kinks)."""
    n = math.prod(shape)
    if domain == "pos":
        v = rng.uniform(0.5, 2.0, n)
    elif domain == "unit":
        v = rng.uniform(0.1, 0.9, n)
    else:  # "any" / "away": |v| in [0.2, 2], random sign, distinct
        v = rng.uniform(0.2, 2.0, n) * rng.choice([-1.0, 1.0], n)
    return v.reshape(shape)


def _c(L: Any, a: np.ndarray, like: Any) -> Any:
    """A constant Tensor of ``a`` (floats in ``like``'s dtype)."""
    if a.dtype.kind == "f":
        return L.tensor(a, dtype=like.dtype)
    return L.tensor(a)


CASES: list[Case] = []


def case(name: str, f: Callable[..., Any], *shapes: tuple, domain: Any = "any",
         consts: Any = None, fd_eps: float = 1e-6, tags: tuple = ()) -> None:
    CASES.append(Case(name, f, shapes, domain, consts, fd_eps, tags))


# -- binary arithmetic with broadcasting -------------------------------------------------
BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((2, 1, 3), (5, 1)),
             ((1,), (7,)), ((), (2, 3)), ((2, 3), ()), ((0, 3), (3,)), ((5, 1), (1, 0)),
             ((1, 1), (1,))]
for sa, sb in BROADCAST:
    tag = f"{sa}x{sb}".replace(" ", "")
    case(f"add{tag}", lambda L, F, a, b: a + b, sa, sb)
    case(f"sub{tag}", lambda L, F, a, b: a - b, sa, sb)
    case(f"mul{tag}", lambda L, F, a, b: a * b, sa, sb)
    case(f"div{tag}", lambda L, F, a, b: a / b, sa, sb, domain=("any", "pos"))
    case(f"pow{tag}", lambda L, F, a, b: a ** b, sa, sb, domain=("pos", "any"))
    case(f"fn.add{tag}", lambda L, F, a, b: L.add(a, b), sa, sb)
    case(f"fn.sub{tag}", lambda L, F, a, b: L.sub(a, b), sa, sb)
    case(f"fn.mul{tag}", lambda L, F, a, b: L.mul(a, b), sa, sb)
    case(f"where{tag}", lambda L, F, a, b, c: L.where(_c(L, c, a), a, b), sa, sb,
         consts=lambda r, sa=sa, sb=sb: {"c": r.random(np.broadcast_shapes(sa, sb)) < 0.5})

for shape in [(3, 4), (7,), (1,), (), (0, 2)]:
    tag = str(shape).replace(" ", "")
    case(f"radd{tag}", lambda L, F, a: 2.5 + a, shape)
    case(f"rsub{tag}", lambda L, F, a: 2.5 - a, shape)
    case(f"rmul{tag}", lambda L, F, a: 2.5 * a, shape)
    case(f"rdiv{tag}", lambda L, F, a: 2.5 / a, shape, domain="pos")
    case(f"rpow{tag}", lambda L, F, a: 1.7 ** a, shape)
    case(f"pow_int{tag}", lambda L, F, a: a ** 3, shape)
    case(f"pow_half{tag}", lambda L, F, a: a ** 0.5, shape, domain="pos")
    case(f"pow_neg{tag}", lambda L, F, a: a ** -2, shape, domain="pos")
    case(f"fn.pow{tag}", lambda L, F, a: L.pow(a, 2), shape)
    case(f"add_scalar{tag}", lambda L, F, a: a + 1.5, shape)
    case(f"sub_scalar{tag}", lambda L, F, a: a - 1.5, shape)
    case(f"div_scalar{tag}", lambda L, F, a: a / 3.0, shape)
    case(f"mul_int{tag}", lambda L, F, a: a * 3, shape)
    case(f"neg{tag}", lambda L, F, a: -a, shape)
    case(f"abs{tag}", lambda L, F, a: a.abs(), shape)
    case(f"fn.abs{tag}", lambda L, F, a: L.abs(a), shape)
    case(f"exp{tag}", lambda L, F, a: a.exp(), shape)
    case(f"fn.exp{tag}", lambda L, F, a: L.exp(a), shape)
    case(f"log{tag}", lambda L, F, a: a.log(), shape, domain="pos")
    case(f"fn.log{tag}", lambda L, F, a: L.log(a), shape, domain="pos")
    case(f"sqrt{tag}", lambda L, F, a: a.sqrt(), shape, domain="pos")
    case(f"fn.sqrt{tag}", lambda L, F, a: L.sqrt(a), shape, domain="pos")
    case(f"sin{tag}", lambda L, F, a: a.sin(), shape)
    case(f"cos{tag}", lambda L, F, a: L.cos(a), shape)
    case(f"clamp{tag}", lambda L, F, a: a.clamp(-0.9, 1.1), shape)
    case(f"clamp_min{tag}", lambda L, F, a: L.clamp(a, min=0.5), shape)
    case(f"clamp_max{tag}", lambda L, F, a: a.clamp(max=-0.5), shape)
    case(f"relu{tag}", lambda L, F, a: a.relu(), shape)
    case(f"fn.relu{tag}", lambda L, F, a: L.relu(a), shape)
    case(f"sigmoid{tag}", lambda L, F, a: a.sigmoid(), shape)
    case(f"fn.sigmoid{tag}", lambda L, F, a: L.sigmoid(a), shape)
    case(f"tanh{tag}", lambda L, F, a: a.tanh(), shape)
    case(f"fn.tanh{tag}", lambda L, F, a: L.tanh(a), shape)
    case(f"F.relu{tag}", lambda L, F, a: F.relu(a), shape)
    case(f"F.leaky_relu{tag}", lambda L, F, a: F.leaky_relu(a), shape)
    case(f"F.leaky_relu0.2{tag}", lambda L, F, a: F.leaky_relu(a, 0.2), shape)
    case(f"F.sigmoid{tag}", lambda L, F, a: F.sigmoid(a), shape)
    case(f"F.tanh{tag}", lambda L, F, a: F.tanh(a), shape)
    case(f"F.gelu{tag}", lambda L, F, a: F.gelu(a), shape)
    case(f"F.gelu_tanh{tag}", lambda L, F, a: F.gelu(a, approximate="tanh"), shape)
    case(f"clone{tag}", lambda L, F, a: a.clone() * 2, shape)
    case(f"sum{tag}", lambda L, F, a: a.sum(), shape)
    if 0 not in shape:
        case(f"mean{tag}", lambda L, F, a: a.mean(), shape)

# -- reductions ----------------------------------------------------------------------------
for shape in [(3, 5), (2, 3, 4), (1, 7), (4, 0)]:
    tag = str(shape).replace(" ", "")
    empty = 0 in shape
    for dim in [0, 1, -1, (0, 1)]:
        for kd in (False, True):
            t2 = f"{tag}dim{dim}kd{int(kd)}".replace(" ", "")
            case(f"sum{t2}", lambda L, F, a, d=dim, k=kd: a.sum(dim=d, keepdim=k), shape)
            case(f"fn.sum{t2}", lambda L, F, a, d=dim, k=kd: L.sum(a, d, keepdim=k), shape)
            if not empty:
                case(f"mean{t2}", lambda L, F, a, d=dim, k=kd: a.mean(dim=d, keepdim=k), shape)
                case(f"fn.mean{t2}", lambda L, F, a, d=dim, k=kd: L.mean(a, d, k), shape)
                case(f"std{t2}", lambda L, F, a, d=dim, k=kd: a.std(dim=d, keepdim=k), shape,
                     tags=("std",))
            if not isinstance(dim, tuple) and shape[dim] > 0:
                case(f"max_dim{t2}", lambda L, F, a, d=dim, k=kd: a.max(dim=d, keepdim=k)[0],
                     shape)
                case(f"min_dim{t2}", lambda L, F, a, d=dim, k=kd: a.min(d, k).values, shape)
                case(f"fn.max_dim{t2}", lambda L, F, a, d=dim, k=kd: L.max(a, d, k).values,
                     shape)
                case(f"prod{t2}", lambda L, F, a, d=dim, k=kd: a.prod(dim=d, keepdim=k), shape)
    if not empty:
        case(f"max{tag}", lambda L, F, a: a.max(), shape)
        case(f"min{tag}", lambda L, F, a: L.min(a), shape)
        case(f"std{tag}", lambda L, F, a: a.std(), shape, tags=("std",))
        case(f"fn.std{tag}", lambda L, F, a: L.std(a), shape, tags=("std",))
        case(f"prod{tag}", lambda L, F, a: a.prod(), shape)
        case(f"fn.prod{tag}", lambda L, F, a: L.prod(a), shape)
    case(f"mean_all{tag}", lambda L, F, a: a.mean() if a.numel() else a.sum(), shape)
case("prod_with_zero", lambda L, F, a: (a * L.tensor([[1.0, 0.0, 1.0]], dtype=a.dtype)).prod(),
     (2, 3))
case("prod_dim_with_zero",
     lambda L, F, a: (a * L.tensor([[1.0, 0.0, 1.0]], dtype=a.dtype)).prod(1), (2, 3))

# -- shapes and views ------------------------------------------------------------------------
S3 = (2, 3, 5)
case("reshape", lambda L, F, a: a.reshape(5, 6), S3)
case("reshape_tuple", lambda L, F, a: a.reshape((3, -1)), S3)
case("fn.reshape", lambda L, F, a: L.reshape(a, (-1,)), S3)
case("view", lambda L, F, a: a.view(6, 5), S3)
case("view_-1", lambda L, F, a: a.view(-1), S3)
case("flatten", lambda L, F, a: a.flatten(), S3)
case("flatten1", lambda L, F, a: a.flatten(1), S3)
case("flatten0_1", lambda L, F, a: a.flatten(0, 1), S3)
case("fn.flatten", lambda L, F, a: L.flatten(a, 1), S3)
case("unsqueeze0", lambda L, F, a: a.unsqueeze(0), S3)
case("unsqueeze-1", lambda L, F, a: a.unsqueeze(-1), S3)
case("fn.unsqueeze", lambda L, F, a: L.unsqueeze(a, 1), S3)
case("squeeze", lambda L, F, a: a.squeeze(), (1, 3, 1, 2))
case("squeeze_dim", lambda L, F, a: a.squeeze(2), (1, 3, 1, 2))
case("squeeze_noop", lambda L, F, a: a.squeeze(1), (1, 3, 1, 2))
case("fn.squeeze", lambda L, F, a: L.squeeze(a, 0), (1, 3))
case("transpose", lambda L, F, a: a.transpose(0, 2), S3)
case("transpose_neg", lambda L, F, a: a.transpose(-1, -2) * 1.5, S3)
case("fn.transpose", lambda L, F, a: L.transpose(a, 0, 1), S3)
case("t", lambda L, F, a: a.t(), (3, 5))
case("t_1d", lambda L, F, a: a.t(), (5,))
case("fn.t", lambda L, F, a: L.t(a), (3, 5))
case("T", lambda L, F, a: a.T, (3, 5))
case("permute", lambda L, F, a: a.permute(2, 0, 1), S3)
case("permute_tuple", lambda L, F, a: a.permute((1, 2, 0)), S3)
case("fn.permute", lambda L, F, a: L.permute(a, (2, 1, 0)), S3)
case("view_then_op", lambda L, F, a: a.view(6, 5).t() @ a.view(6, 5), S3)
case("reshape_empty", lambda L, F, a: a.reshape(0, 3), (3, 0))

# -- indexing -----------------------------------------------------------------------------------
case("index_int", lambda L, F, a: a[1], (4, 3))
case("index_neg", lambda L, F, a: a[-1], (4, 3))
case("index_int_int", lambda L, F, a: a[1, 2], (4, 3))
case("index_slice", lambda L, F, a: a[1:3], (4, 3))
case("index_slice_step", lambda L, F, a: a[::2, 1:], (5, 3))
case("index_slice_col", lambda L, F, a: a[:, 0], (4, 3))
case("index_ellipsis", lambda L, F, a: a[..., 1], (2, 4, 3))
case("index_none", lambda L, F, a: a[None, 1:], (4, 3))
case("index_empty_slice", lambda L, F, a: a[2:2], (4, 3))
case("index_bool_mask", lambda L, F, a, m: a[_c(L, m, a)], (4, 3),
     consts=lambda r: {"m": np.array([[True, False, True], [False, False, True],
                                      [True, True, True], [False, False, False]])})
case("index_bool_rows", lambda L, F, a, m: a[_c(L, m, a)], (4, 3),
     consts=lambda r: {"m": np.array([True, False, True, True])})
case("index_int_array", lambda L, F, a, i: a[_c(L, i, a)], (5, 3),
     consts=lambda r: {"i": np.array([4, 0, 2])})
case("index_int_array_repeat", lambda L, F, a, i: a[_c(L, i, a)], (5, 3),
     consts=lambda r: {"i": np.array([1, 3, 1, 1, 0, 3])})
case("index_int_array_2d", lambda L, F, a, i: a[_c(L, i, a)], (5,),
     consts=lambda r: {"i": np.array([[0, 1], [1, 4], [4, 4]])})
case("index_two_arrays", lambda L, F, a, i, j: a[_c(L, i, a), _c(L, j, a)], (4, 3),
     consts=lambda r: {"i": np.array([0, 2, 2, 3]), "j": np.array([1, 1, 1, 0])})
case("index_slice_array", lambda L, F, a, i: a[:, _c(L, i, a)], (4, 3),
     consts=lambda r: {"i": np.array([2, 2, 0])})
case("index_list", lambda L, F, a: a[[0, 0, 2]], (4, 3))
case("gather_dim1", lambda L, F, a, i: L.gather(a, 1, L.tensor(i)), (3, 4),
     consts=lambda r: {"i": np.array([[0, 2, 2], [3, 0, 1]])})
case("gather_dim0_method", lambda L, F, a, i: a.gather(0, L.tensor(i)), (3, 4),
     consts=lambda r: {"i": np.array([[2, 0, 1, 2], [0, 0, 1, 2]])})
case("index_select_repeat", lambda L, F, a, i: L.index_select(a, 1, L.tensor(i)), (3, 4),
     consts=lambda r: {"i": np.array([3, 0, 3])})
case("index_select_method", lambda L, F, a, i: a.index_select(0, L.tensor(i)), (3, 4),
     consts=lambda r: {"i": np.array([2, 2, 0])})
case("flip", lambda L, F, a: L.flip(a, [0, 1]), (3, 4))
case("flip_method", lambda L, F, a: a.flip(-1), (3, 4))
case("cumsum", lambda L, F, a: L.cumsum(a, 0), (3, 4))
case("cumsum_method", lambda L, F, a: a.cumsum(dim=-1), (3, 4))
case("log1p", lambda L, F, a: L.log1p(a), (3, 4), domain="pos")
case("log1p_method", lambda L, F, a: a.log1p(), (3, 4), domain="unit")
case("log2", lambda L, F, a: L.log2(a), (3, 4), domain="pos")
case("log10_method", lambda L, F, a: a.log10(), (3, 4), domain="pos")
case("log10_0d", lambda L, F, a: L.log10(a), (), domain="pos")
case("expm1", lambda L, F, a: L.expm1(a), (3, 4))
case("expm1_method", lambda L, F, a: a.expm1(), (3, 4))
case("clamp_min", lambda L, F, a: a.clamp_min(0.1), (3, 4))
case("clamp_max", lambda L, F, a: L.clamp_max(a, 0.1), (3, 4))

# -- joining ----------------------------------------------------------------------------------
case("cat0", lambda L, F, a, b: L.cat([a, b]), (2, 3), (4, 3))
case("cat1", lambda L, F, a, b, c: L.cat((a, b, c), dim=1), (2, 3), (2, 1), (2, 4))
case("cat_neg", lambda L, F, a, b: L.cat([a, b], -1), (2, 3), (2, 2))
case("cat_empty", lambda L, F, a, b: L.cat([a, b]), (0, 3), (2, 3))
case("cat_const", lambda L, F, a, c: L.cat([a, _c(L, c, a)]), (2, 3),
     consts=lambda r: {"c": r.standard_normal((1, 3))})
case("stack0", lambda L, F, a, b: L.stack([a, b]), (2, 3), (2, 3))
case("stack1", lambda L, F, a, b, c: L.stack([a, b, c], 1), (2, 3), (2, 3), (2, 3))
case("stack_neg", lambda L, F, a, b: L.stack((a, b), dim=-1), (4,), (4,))
case("where_scalar", lambda L, F, a, c: L.where(_c(L, c, a), a, 0.0), (3, 4),
     consts=lambda r: {"c": r.random((3, 4)) < 0.5})
case("where_gt", lambda L, F, a, b: L.where(a > 0, a, b * 2), (3, 4), (3, 4))

# -- matmul -------------------------------------------------------------------------------------
MATMUL = [((3, 4), (4, 5)), ((1, 1), (1, 1)), ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)),
          ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
          ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((0, 4), (4, 3)), ((3, 0), (0, 2)),
          ((7, 11), (11, 13))]
for sa, sb in MATMUL:
    tag = f"{sa}x{sb}".replace(" ", "")
    case(f"matmul{tag}", lambda L, F, a, b: a @ b, sa, sb)
    case(f"fn.matmul{tag}", lambda L, F, a, b: L.matmul(a, b), sa, sb)
    if len(sa) == 2 and len(sb) == 2:
        case(f"mm{tag}", lambda L, F, a, b: L.mm(a, b), sa, sb)
        case(f"matmul_method{tag}", lambda L, F, a, b: a.matmul(b), sa, sb)

# -- softmax family -------------------------------------------------------------------------------
for shape, dim in [((3, 5), 1), ((3, 5), 0), ((3, 5), -1), ((2, 3, 4), 1), ((7,), 0),
                   ((1, 1), 1), ((2, 3, 4), -1)]:
    tag = f"{shape}d{dim}".replace(" ", "")
    case(f"softmax{tag}", lambda L, F, a, d=dim: a.softmax(d), shape)
    case(f"log_softmax{tag}", lambda L, F, a, d=dim: a.log_softmax(dim=d), shape)
    case(f"fn.softmax{tag}", lambda L, F, a, d=dim: L.softmax(a, d), shape)
    case(f"fn.log_softmax{tag}", lambda L, F, a, d=dim: L.log_softmax(a, dim=d), shape)
    case(f"F.softmax{tag}", lambda L, F, a, d=dim: F.softmax(a, dim=d), shape)
    case(f"F.log_softmax{tag}", lambda L, F, a, d=dim: F.log_softmax(a, d), shape)

# -- linear -------------------------------------------------------------------------------------
for sx, out in [((4, 3), 5), ((1, 1), 1), ((2, 3, 4), 2), ((5,), 3), ((0, 3), 2), ((7, 11), 13)]:
    tag = f"{sx}->{out}".replace(" ", "")
    case(f"F.linear{tag}", lambda L, F, x, w, b: F.linear(x, w, b), sx, (out, sx[-1]), (out,))
    case(f"F.linear_nobias{tag}", lambda L, F, x, w: F.linear(x, w), sx, (out, sx[-1]))

# -- losses ---------------------------------------------------------------------------------------


def _labels(n: int, c: int) -> Callable[[np.random.Generator], dict]:
    return lambda r: {"t": r.integers(0, c, n)}


for red in ("mean", "sum", "none"):
    for sx in [(4, 3), (7,), (1,), (2, 3, 2)]:
        tag = f"{red}{sx}".replace(" ", "")
        case(f"F.mse_loss{tag}", lambda L, F, x, t, r=red: F.mse_loss(x, t, reduction=r), sx,
             sx)
        case(f"F.mse_loss_const{tag}",
             lambda L, F, x, t, r=red: F.mse_loss(x, _c(L, t, x), reduction=r), sx,
             consts=lambda g, sx=sx: {"t": g.standard_normal(sx)})
        case(f"F.bce{tag}",
             lambda L, F, x, t, r=red: F.binary_cross_entropy(x, _c(L, t, x), reduction=r), sx,
             domain="unit", consts=lambda g, sx=sx: {"t": g.random(sx)})
        case(f"F.bce_logits{tag}",
             lambda L, F, x, t, r=red: F.binary_cross_entropy_with_logits(x, _c(L, t, x),
                                                                          reduction=r), sx,
             consts=lambda g, sx=sx: {"t": g.random(sx)})
    for n, c in [(4, 3), (1, 5), (7, 2), (5, 1)]:
        tag = f"{red}({n},{c})"
        case(f"F.cross_entropy{tag}",
             lambda L, F, x, t, r=red: F.cross_entropy(x, _c(L, t, x), reduction=r), (n, c),
             consts=_labels(n, c))
        case(f"F.cross_entropy_ls{tag}",
             lambda L, F, x, t, r=red: F.cross_entropy(x, _c(L, t, x), reduction=r,
                                                       label_smoothing=0.1), (n, c),
             consts=_labels(n, c))
        case(f"F.nll_loss{tag}",
             lambda L, F, x, t, r=red: F.nll_loss(x, _c(L, t, x), reduction=r), (n, c),
             consts=_labels(n, c))
        case(f"F.nll_of_log_softmax{tag}",
             lambda L, F, x, t, r=red: F.nll_loss(F.log_softmax(x, 1), _c(L, t, x),
                                                  reduction=r), (n, c), consts=_labels(n, c))
    case(f"F.cross_entropy_weight{red}",
         lambda L, F, x, t, w, r=red: F.cross_entropy(x, _c(L, t, x), weight=_c(L, w, x),
                                                      reduction=r), (5, 3),
         consts=lambda g: {"t": g.integers(0, 3, 5), "w": g.uniform(0.5, 2, 3)})
    case(f"F.cross_entropy_ignore{red}",
         lambda L, F, x, t, r=red: F.cross_entropy(x, _c(L, t, x), reduction=r,
                                                   ignore_index=1), (6, 3),
         consts=lambda g: {"t": np.array([0, 1, 2, 1, 0, 2])})
    case(f"F.cross_entropy_ls_weight{red}",
         lambda L, F, x, t, w, r=red: F.cross_entropy(x, _c(L, t, x), weight=_c(L, w, x),
                                                      reduction=r, label_smoothing=0.2),
         (5, 3), consts=lambda g: {"t": g.integers(0, 3, 5), "w": g.uniform(0.5, 2, 3)})
    case(f"F.cross_entropy_probs{red}",
         lambda L, F, x, t, r=red: F.cross_entropy(x, _c(L, t, x), reduction=r), (4, 3),
         consts=lambda g: {"t": g.dirichlet(np.ones(3), 4)})
    case(f"F.cross_entropy_1d{red}",
         lambda L, F, x, t, r=red: F.cross_entropy(x, _c(L, t, x), reduction=r), (5,),
         consts=lambda g: {"t": np.array(3)})
    case(f"F.nll_loss_weight{red}",
         lambda L, F, x, t, w, r=red: F.nll_loss(x, _c(L, t, x), weight=_c(L, w, x),
                                                 reduction=r), (5, 3),
         consts=lambda g: {"t": g.integers(0, 3, 5), "w": g.uniform(0.5, 2, 3)})
case("F.bce_weight", lambda L, F, x, t, w: F.binary_cross_entropy(x, _c(L, t, x),
                                                                  weight=_c(L, w, x)), (4, 3),
     domain="unit", consts=lambda g: {"t": g.random((4, 3)), "w": g.random((4, 3))})
case("F.bce_logits_pos_weight",
     lambda L, F, x, t, w: F.binary_cross_entropy_with_logits(x, _c(L, t, x),
                                                              pos_weight=_c(L, w, x)), (4, 3),
     consts=lambda g: {"t": g.random((4, 3)), "w": g.uniform(0.5, 2, 3)})
case("F.bce_target_grad", lambda L, F, x, t: F.binary_cross_entropy(x, t), (4, 3), (4, 3),
     domain=("unit", "unit"))
case("F.bce_logits_target_grad",
     lambda L, F, x, t: F.binary_cross_entropy_with_logits(x, t), (4, 3), (4, 3),
     domain=("any", "unit"))
case("F.dropout_eval", lambda L, F, x: F.dropout(x, 0.5, training=False), (4, 3))
case("F.dropout_p0", lambda L, F, x: F.dropout(x, 0.0), (4, 3))

# -- compositions: shared inputs, views of views, several uses ---------------------------------
case("mlp", lambda L, F, x, w1, b1, w2: (F.linear(F.relu(F.linear(x, w1, b1)), w2)
                                         .log_softmax(1)), (5, 4), (6, 4), (6,), (3, 6))
case("reuse", lambda L, F, a: a * a + a.exp() * a - a.sum(), (3, 4))
case("reuse_views", lambda L, F, a: a[0] * a[1] + a.t()[2], (3, 3))
case("norm_rows", lambda L, F, a: a / (a * a).sum(1, keepdim=True).sqrt(), (3, 4))
case("layernorm", lambda L, F, a: (a - a.mean(-1, keepdim=True)) / a.std(-1, keepdim=True),
     (3, 5), tags=("std",))
case("diamond", lambda L, F, a, b: (a @ b).tanh() @ (a @ b).t().sigmoid(), (3, 4), (4, 3))


# Graphs whose nodes saved no values (only shapes, axes, basic indices) run backward again
# without retain_graph, as PyTorch's do; a node that saved values raises the second time.
# Outcomes as PyTorch 2.13 gives them (test_autograd_torch checks them there); each case
# is f(L, w) for the library L (fastnn or torch) and w = ones(3) requiring grad.
SECOND_BACKWARD = {
    "sum": (lambda L, w: w.sum(), [2, 2, 2]),
    "mean": (lambda L, w: w.mean(), [2 / 3] * 3),
    "add_constant": (lambda L, w: (w + 1).sum(), [2, 2, 2]),
    "neg_sub": (lambda L, w: (-w - 1).sum(), [-2, -2, -2]),
    "view": (lambda L, w: w.view(3, 1).sum(), [2, 2, 2]),
    "slice": (lambda L, w: w[1:].sum(), [0, 2, 2]),
    "permute_expand": (lambda L, w: w.view(3, 1).permute(1, 0).expand(2, 3).sum(), [4, 4, 4]),
    "clone_cast_cumsum": (lambda L, w: w.clone().double().cumsum(0).sum(), [6, 4, 2]),
    "mul": (lambda L, w: (w * w).sum(), None),
    "mul_constant": (lambda L, w: (w * 2).sum(), None),
    "exp": (lambda L, w: w.exp().sum(), None),
    "index_array": (lambda L, w: w[L.tensor([0, 0, 2])].sum(), None),
    "add_after_mul": (lambda L, w: (w * w + w).sum(), None),
}


# PyTorch's result dtypes of a 0-d Tensor beside a dimensioned one: (0-d dtype, dimensioned
# dtype, result dtype); test_autograd_semantics checks fastnn, test_autograd_torch torch.
ZERO_DIM_PROMOTION = [
    ("float64", "float32", "float32"), ("int64", "int32", "int32"),
    ("int32", "int64", "int64"), ("float64", "int32", "float64"),
    ("float32", "int32", "float32"), ("bool", "int32", "int32"),
]


def check_second_backward(L, case: str) -> None:
    """Runs SECOND_BACKWARD[case] with library ``L``: the second backward raises where the
    case says None, else accumulates to the gradient it gives."""
    import pytest

    f, grad = SECOND_BACKWARD[case]
    w = L.ones(3, requires_grad=True)
    y = f(L, w)
    y.backward()
    if grad is None:
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
    else:
        y.backward()  # the gradients of both passes accumulate
        np.testing.assert_allclose(w.grad.numpy(), grad, rtol=1e-6)


def zero_dim_result_dtypes(L, zero_dim: str, dimensioned: str) -> list[Any]:
    """The result dtypes of ops between a 0-d and a dimensioned Tensor in library ``L``
    (subtraction left out for bool, which raises)."""
    s = L.tensor(1, dtype=getattr(L, zero_dim))
    t = L.ones(3, dtype=getattr(L, dimensioned))
    cond = L.tensor([True, False, True])
    outs = [s + t, t * s, L.maximum(s, t), L.where(cond, s, t)]
    if zero_dim != "bool":
        outs.append(t - s)
    return [out.dtype for out in outs]


def unused_layer_trajectories(step_once, steps: int = 3) -> list[list[np.ndarray]]:
    """Trains a model whose forward never uses one of its layers (``unused``), with
    AdamW's weight decay, twice from the same seed: ``step_once(model, opt, X, y, run)``
    makes one step of run 0 or 1. Returns each run's final parameters, for tests that
    two ways of stepping skip that layer alike (as torch skips its None gradient)."""
    import fastnn as fn

    class WithUnusedLayer(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = fn.nn.Linear(4, 8), fn.nn.Linear(8, 3)
            self.unused = fn.nn.Linear(4, 4)

        def forward(self, x):
            return self.b(self.a(x).relu())
    rng = np.random.default_rng(0)
    X, y = rng.random((32, 4), dtype=np.float32), rng.integers(0, 3, 32)
    runs = []
    for run in (0, 1):
        fn.manual_seed(0)
        model = WithUnusedLayer()
        opt = fn.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
        for i in range(steps):
            step_once(model, opt, X, y, run, i)
        runs.append([p.detach().numpy().copy() for p in model.parameters()])
    return runs


def eager_step(model, opt, X, y) -> None:
    """One eager autograd step of cross-entropy: zero_grad, forward, backward, step."""
    import fastnn as fn

    opt.zero_grad()
    fn.nn.CrossEntropyLoss()(model(fn.tensor(X)), fn.tensor(y)).backward()
    opt.step()
