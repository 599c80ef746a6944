"""``ember.linalg`` decompositions and norms: ``cholesky``, ``solve_triangular``, ``slogdet``/``logdet``,
``eigh``/``eigvalsh``, ``svd``/``svdvals`` (and the old ``ember.svd``), ``qr``, ``lstsq``, ``pinv``,
``matrix_norm``, with PyTorch's gradients (``vector_norm`` is in reduction.py, ``linalg.norm`` in
ember/linalg.py).

Forward passes are the backend's LAPACK calls (``xp.linalg``). Backward formulas are PyTorch's
(``FunctionsManual.cpp``), written with ember ops so they are differentiable again. Like PyTorch,
``cholesky`` and ``eigh`` read only the lower triangle and return a symmetric gradient; finite differences
of a one-triangle function cannot agree with a symmetric gradient, so their kit samples check values,
and tests/ops/test_linalg_decompositions.py checks their gradients against torch through a symmetric
parametrisation.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ember.ops import LinAlgError, OpTable, Primitive, Sample, ShapeError, apply, check_tensor, float_input

ops = OpTable()


def _result(name, fields):
    cls = namedtuple(name, fields)
    cls.__module__ = "ember.return_types"
    return cls


SlogdetResult = _result("slogdet", ("sign", "logabsdet"))
EighResult = _result("eigh", ("eigenvalues", "eigenvectors"))
SVDResult = _result("svd", ("U", "S", "Vh"))
OldSVDResult = _result("svd", ("U", "S", "V"))
QRResult = _result("qr", ("Q", "R"))
LstsqResult = _result("lstsq", ("solution", "residuals", "rank", "singular_values"))


def _matrix(op, name, A, square=False, low_precision=False):
    """Refuses what PyTorch's LAPACK ops refuse: fewer than 2 dims, non-square input where ``square``,
    integer and bool dtypes, and float16 (no LAPACK kernel) unless ``low_precision``."""
    check_tensor(f"linalg.{op}", name, A)
    if A.array.ndim < 2:
        raise ShapeError(f"linalg.{op}: {name} must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if square and A.array.shape[-1] != A.array.shape[-2]:
        raise ShapeError(f"linalg.{op}: {name} must be batches of square matrices, but they are "
                         f"{A.array.shape[-2]} by {A.array.shape[-1]} matrices")
    float_input(f"linalg.{op}", A, "A", low_precision=low_precision)


def _lapack(op, primitive, *args, **kwargs):
    """``apply(primitive, ...)``, numpy's LinAlgError (no convergence on NaN or inf, not positive-definite)
    raised as ember's :class:`LinAlgError` naming the op, as PyTorch raises torch.linalg.LinAlgError."""
    try:
        return apply(primitive, *args, **kwargs)
    except np.linalg.LinAlgError as exc:
        raise LinAlgError(f"linalg.{op}: {exc}") from None


def _spd(make, *shape):
    """A well-conditioned symmetric positive-definite sample (no grad: see the module docstring)."""
    import ember
    x = make(*shape, requires_grad=False)
    n = shape[-1]
    return (x @ x.mT + ember.eye(n, dtype=make.dtype, device=make.device) * n).detach()


def _lower(xp, a):
    """The symmetric matrix whose lower triangle is ``a``'s (what LAPACK reads with UPLO='L')."""
    low = xp.tril(a)
    return low + xp.swapaxes(xp.tril(a, -1), -1, -2)


# -- cholesky ---------------------------------------------------------------------------------------

class LinalgCholeskyEx(Primitive):
    save_output = True

    @staticmethod
    def forward(xp, a):
        L = xp.linalg.cholesky(_lower(xp, a))
        if not bool(xp.isfinite(L).all()):  # LAPACK's potrf stops at a NaN pivot; numpy's result carries it on
            raise np.linalg.LinAlgError("non-finite pivot")
        return L

    @staticmethod
    def backward(ctx, g):
        L = ctx.output
        phi = (L.mT @ g.tril()).tril()
        phi = phi - 0.5 * phi.diagonal(0, -2, -1).diag_embed()
        L_inv = solve_triangular(L, _eye_like(L), upper=False)
        ga = L_inv.mT @ phi @ L_inv
        return 0.5 * (ga + ga.mT)


def _eye_like(A):
    import ember
    n = A.shape[-1]
    return ember.eye(n, dtype=A.dtype, device=A.device).expand(tuple(A.shape[:-2]) + (n, n))


@ops.op(primitive=LinalgCholeskyEx, namespaces=("linalg",), name="linalg_cholesky", torch="torch.linalg.cholesky",
        samples=lambda make: [Sample((_spd(make, 3, 3),)), Sample((_spd(make, 2, 4, 4),), name="batch")])
def cholesky(A, *, upper=False, out=None):
    """L with A = L L^T for symmetric positive-definite A, lower triangle read (``torch.linalg.cholesky``);
    ``upper=True`` gives L^T. A matrix that is not positive-definite raises, as in PyTorch.

    Shape:
        - A: ``(*, n, n)`` symmetric positive-definite, float32 or float64.
        - output: ``(*, n, n)`` lower (``upper=True``: upper) triangular, the dtype of ``A``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``A`` is not float32 or float64.
        LinAlgError: a matrix is not positive-definite.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.cholesky``."""
    _matrix("cholesky", "A", A, square=True)
    try:
        L = apply(LinalgCholeskyEx, A)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                           "positive-definite") from None
    return L.mT if upper else L


@ops.op(primitive=LinalgCholeskyEx, namespaces=("ember", "Tensor"), name="cholesky", torch="torch.cholesky",
        samples=lambda make: [Sample((_spd(make, 3, 3),))])
def cholesky_legacy(input, upper=False):
    """The old ``torch.cholesky(input, upper=False)``: ``linalg.cholesky``.

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        ShapeError: ``input`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``input`` is not float32 or float64.
        LinAlgError: a matrix is not positive-definite.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.cholesky``."""
    return cholesky(input, upper=upper)


# -- triangular solve -------------------------------------------------------------------------------

class LinalgSolveTriangular(Primitive):
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, a, b, upper, unitriangular):
        tri = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            n = a.shape[-1]
            tri = tri * (1 - xp.eye(n, dtype=a.dtype)) + xp.eye(n, dtype=a.dtype)
        try:
            return xp.linalg.solve(tri, b)
        except np.linalg.LinAlgError:  # a zero or NaN pivot: substitute, giving inf/NaN as PyTorch's trsm does
            return _substitute(xp, tri, b, upper)

    @staticmethod
    def backward(ctx, g, upper, unitriangular):
        a, _ = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        gb = solve_triangular(a.mT, g, upper=not upper, unitriangular=unitriangular)
        ga = None
        if need_a:
            ga = -(gb @ ctx.output.mT)
            ga = ga.triu(1 if unitriangular else 0) if upper else ga.tril(-1 if unitriangular else 0)
        return ga, (gb if need_b else None)


def _substitute(xp, tri, b, upper):
    """Forward (or back) substitution for ``tri @ x = b``, row by row over the batch and the columns of b."""
    n = tri.shape[-1]
    x = xp.zeros(np.broadcast_shapes(tri.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=b.dtype)
    with np.errstate(all="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            done = xp.matmul(tri[..., i:i + 1, :], x)  # rows not yet solved are still 0
            x[..., i, :] = (b[..., i, :] - done[..., 0, :]) / tri[..., i, i:i + 1]
    return x


def _triangular(make, *shape, upper=False):
    import ember
    x = make(*shape, requires_grad=False)
    x = x.triu() if upper else x.tril()
    return (x + ember.eye(shape[-1], dtype=make.dtype, device=make.device) * 3).requires_grad_()


@ops.op(primitive=LinalgSolveTriangular, namespaces=("linalg",), samples=lambda make: [
    Sample((_triangular(make, 3, 3), make(3, 2)), {"upper": False}, name="lower"),
    Sample((_triangular(make, 3, 3, upper=True), make(3, 2)), {"upper": True}, name="upper"),
    Sample((_triangular(make, 2, 3, 3), make(2, 3, 1)), {"upper": False, "unitriangular": True}, name="unit, batch"),
    Sample((_triangular(make, 3, 3, upper=True), make(2, 3)), {"upper": True, "left": False}, name="right")])
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (X A = B with ``left=False``) for triangular A, reading only its ``upper`` or lower triangle
    (``torch.linalg.solve_triangular``).

    Shape:
        - A: ``(*, n, n)`` triangular, float32 or float64.
        - B: ``(*, n, k)`` (``(*, k, n)`` with ``left=False``), batch dims that broadcast.
        - output: the shape of ``B``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        ShapeError: ``B`` does not fit ``A``.
        DTypeError: ``A`` is not float32 or float64.
        TypeError: ``A`` or ``B`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.linalg.solve_triangular``."""
    _matrix("solve_triangular", "A", A, square=True)
    check_tensor("linalg.solve_triangular", "B", B)
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    if B.array.ndim < 2 or B.array.shape[-2] != A.array.shape[-1]:
        raise ShapeError(f"linalg.solve_triangular: incompatible shapes of A and B for the equation AX = B "
                         f"({tuple(A.shape)} and {tuple(B.shape)})")
    return apply(LinalgSolveTriangular, A, B, upper=upper, unitriangular=unitriangular)


# -- determinants -----------------------------------------------------------------------------------

class LinalgSlogdet(Primitive):
    """(sign, log|det|); the sign is piecewise constant, so only log|det| carries a gradient."""

    num_outputs = 2
    save_inputs = True

    @staticmethod
    def forward(xp, a):
        sign, logabs = xp.linalg.slogdet(a)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        import ember
        (a,) = ctx.inputs
        if g_logabs is None:
            return a * 0
        return g_logabs.unsqueeze(-1).unsqueeze(-1) * ember.linalg.inv(a).mT


def _well_conditioned(make, *shape):
    import ember
    return (make(*shape, requires_grad=False) + ember.eye(shape[-1], dtype=make.dtype, device=make.device) * 3).requires_grad_()


@ops.op(primitive=LinalgSlogdet, namespaces=("ember", "Tensor", "linalg"), samples=lambda make: [
    Sample((_well_conditioned(make, 3, 3),)), Sample((-_well_conditioned(make, 2, 3, 3).detach().requires_grad_(),), name="batch")])
def slogdet(A):
    """(sign, log|det|) of each square matrix (``torch.linalg.slogdet``); the log is differentiable.

    Shape:
        - A: ``(*, n, n)``, float32 or float64.
        - output: ``(sign, logabsdet)``, each ``(*)``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``A`` is not float32 or float64.
        LinAlgError: the LAPACK routine fails.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.slogdet``."""
    _matrix("slogdet", "A", A, square=True)
    sign, logabs = _lapack("slogdet", LinalgSlogdet, A)
    return SlogdetResult(sign, logabs)


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((_well_conditioned(make, 3, 3),))])
def logdet(input):
    """log det of each square matrix: NaN for a negative determinant, -inf for zero (``torch.logdet``).

    Shape:
        - input: ``(*, n, n)``, float32 or float64.
        - output: ``(*)``; NaN for a negative determinant, -inf for zero.

    Raises:
        ShapeError: ``input`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``input`` is not float32 or float64.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.logdet``."""
    sign, logabs = slogdet(input)
    return logabs + sign.detach().log()


# -- symmetric eigendecomposition -------------------------------------------------------------------

class LinalgEigh(Primitive):
    num_outputs = 2
    save_output = True

    @staticmethod
    def forward(xp, a):
        w, v = xp.linalg.eigh(_lower(xp, a))
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, V = ctx.outputs
        inner = 0
        if gv is not None:
            VhgV = V.mT @ gv
            VhgV = 0.5 * (VhgV - VhgV.mT)
            E = w.unsqueeze(-2) - w.unsqueeze(-1)
            E = E + _eye_like(V)  # diagonal of E is 0; VhgV's is 0 too, so any non-zero divisor works
            inner = VhgV / E
        if gw is not None:
            inner = inner + gw.diag_embed()
        return V @ inner @ V.mT


# eigenvector signs are LAPACK's choice: the kit checks the forward against numpy's LAPACK call, and tests
# compare invariants with torch
@ops.op(primitive=LinalgEigh, namespaces=("linalg",), torch=None, expected=lambda A, UPLO="L": tuple(np.linalg.eigh(A, UPLO=UPLO)),
        samples=lambda make: [Sample((_spd(make, 3, 3),)), Sample((_spd(make, 2, 3, 3),), {"UPLO": "L"})])
def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric A (``torch.linalg.eigh``). Eigenvector
    signs follow LAPACK, as PyTorch's do.

    Shape:
        - A: ``(*, n, n)`` symmetric, float32 or float64.
        - output: ``(eigenvalues, eigenvectors)``: ``(*, n)`` ascending and ``(*, n, n)`` (columns).

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``A`` is not float32 or float64.
        RuntimeError: ``UPLO`` is not 'L' or 'U'.
        LinAlgError: the iteration does not converge (non-finite input).
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.eigh``."""
    _matrix("eigh", "A", A, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if UPLO == "U":
        A = A.mT
    w, v = _lapack("eigh", LinalgEigh, A)
    return EighResult(w, v)


@ops.op(primitive=LinalgEigh, namespaces=("linalg",), samples=lambda make: [Sample((_spd(make, 3, 3),))])
def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of symmetric A, ascending (``torch.linalg.eigvalsh``).

    Shape:
        - A: ``(*, n, n)`` symmetric, float32 or float64.
        - output: ``(*, n)``, ascending.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``A`` is not float32 or float64.
        RuntimeError: ``UPLO`` is not 'L' or 'U'.
        LinAlgError: the iteration does not converge (non-finite input).
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.eigvalsh``."""
    return eigh(A, UPLO).eigenvalues


# -- singular value decomposition -------------------------------------------------------------------

class SVD(Primitive):
    name = "_linalg_svd"  # ATen's; PyTorch shows LinalgSvdBackward0
    num_outputs = 3
    save_output = True

    @staticmethod
    def forward(xp, a):
        return tuple(xp.linalg.svd(a, full_matrices=False))

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.outputs
        m, n = U.shape[-2], Vh.shape[-1]
        k = S.shape[-1]
        if gU is None and gVh is None:
            return (U * gS.unsqueeze(-2)) @ Vh
        V = Vh.mT
        gV = gVh.mT if gVh is not None else None
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye_like(U[..., :k, :k] if m >= k else Vh[..., :k, :k])
        ret = 0
        UhgU = VhgV = None
        if gU is not None:
            UhgU = U.mT @ gU
            ret = ret + ((UhgU - UhgU.mT) / E) * S.unsqueeze(-2)
        if gV is not None:
            VhgV = V.mT @ gV
            ret = ret + S.unsqueeze(-1) * ((VhgV - VhgV.mT) / E)
        if gS is not None:
            ret = ret + gS.diag_embed()
        gA = U @ ret @ Vh
        if gU is not None and m > k:
            gA = gA + ((gU - U @ UhgU) / S.unsqueeze(-2)) @ Vh
        if gV is not None and n > k:
            gA = gA + U @ ((gV - V @ VhgV) / S.unsqueeze(-2)).mT
        return gA


def _svd_samples(make):
    yield Sample((make(3, 3),), name="square")
    yield Sample((make(4, 2),), {"full_matrices": False}, name="tall")
    yield Sample((make(2, 2, 3),), {"full_matrices": False}, name="wide, batch")


def _svdvals_samples(make):
    yield Sample((make(3, 3),), name="square")
    yield Sample((make(4, 2),), name="tall")


# singular vector signs are LAPACK's choice: tests compare invariants (U S Vh, S, gradients of them) with torch
@ops.op(namespaces=("linalg",), name="linalg_svd", torch=None, samples=_svd_samples,
        expected=lambda A, full_matrices=True, **_: tuple(np.linalg.svd(A, full_matrices=False)))
def svd(A, full_matrices=True, *, driver=None, out=None):
    """U, S, Vh with A = U diag(S) Vh, S descending (``torch.linalg.svd``). ember computes the reduced
    factorisation; ``full_matrices=True`` is accepted for square inputs and refused otherwise.

    Shape:
        - A: ``(*, m, n)``, float32 or float64.
        - output: ``(U, S, Vh)``: ``(*, m, k)``, ``(*, k)`` descending and ``(*, k, n)``, k = min(m, n).

    Raises:
        ShapeError: ``A`` has fewer than 2 dims.
        DTypeError: ``A`` is not float32 or float64.
        NotImplementedError: ``full_matrices=True`` for a non-square input (ember computes the reduced SVD).
        LinAlgError: the algorithm does not converge (non-finite input).
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.svd``."""
    _matrix("svd", "A", A)
    m, n = A.shape[-2], A.shape[-1]
    if full_matrices and m != n:
        raise NotImplementedError(f"linalg.svd: ember computes the reduced SVD only; pass full_matrices=False "
                                  f"for a {m}x{n} input")
    if bool(A.isnan().any()):  # LAPACK's gesdd does not converge on NaN; numpy may return NaN instead
        raise LinAlgError("linalg.svd: The algorithm failed to converge because the input matrix contained "
                          "non-finite values")
    U, S, Vh = _lapack("svd", SVD, A)
    return SVDResult(U, S, Vh)


@ops.op(namespaces=("linalg",), samples=_svdvals_samples)
def svdvals(A, *, driver=None, out=None):
    """The singular values, descending (``torch.linalg.svdvals``).

    Shape:
        - A: ``(*, m, n)``, float32 or float64.
        - output: ``(*, min(m, n))``, descending.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims.
        DTypeError: ``A`` is not float32 or float64.
        LinAlgError: the algorithm does not converge (non-finite input).
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.svdvals``."""
    return svd(A, full_matrices=False).S


def _legacy_svd_expected(x, some=True, compute_uv=True):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return u, s, np.swapaxes(vh, -1, -2)


@ops.op(namespaces=("ember", "Tensor"), name="svd", torch=None, samples=_svdvals_samples, expected=_legacy_svd_expected)
def svd_legacy(input, some=True, compute_uv=True):
    """The old ``torch.svd``: (U, S, V) with V (not V^T), reduced when ``some``.

    Shape:
        - input: ``(*, m, n)``, float32 or float64.
        - output: ``(U, S, V)``: ``(*, m, k)``, ``(*, k)`` descending and ``(*, n, k)``, k = min(m, n).

    Raises:
        ShapeError: ``input`` has fewer than 2 dims.
        DTypeError: ``input`` is not float32 or float64.
        NotImplementedError: ``some=False`` for a non-square input (ember computes the reduced SVD).
        LinAlgError: the algorithm does not converge (non-finite input).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.svd``."""
    if not some and input.shape[-1] != input.shape[-2]:
        raise NotImplementedError("svd: ember computes the reduced SVD only (some=True)")
    U, S, Vh = svd(input, full_matrices=False)
    return OldSVDResult(U, S, Vh.mT)


# -- QR ---------------------------------------------------------------------------------------------------

class LinalgQr(Primitive):
    num_outputs = 2
    save_output = True

    @staticmethod
    def forward(xp, a):
        q, r = xp.linalg.qr(a, mode="reduced")
        return q, r

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.outputs
        M = 0
        if gR is not None:
            M = R @ gR.mT
        if gQ is not None:
            M = M - gQ.mT @ Q
        copyltu = M.tril(-1) + M.tril(-1).mT + M.diagonal(0, -2, -1).diag_embed() if not isinstance(M, int) else 0
        base = (gQ if gQ is not None else 0) + Q @ copyltu
        return solve_triangular(R, base.mT, upper=True).mT


@ops.op(primitive=LinalgQr, namespaces=("linalg",), samples=lambda make: [Sample((_well_conditioned(make, 3, 3),)),
                                                  Sample((make(4, 2),), name="tall"),
                                                  Sample((make(2, 3, 2),), name="batch")])
def qr(A, mode="reduced", *, out=None):
    """Q (orthonormal columns) and R (upper triangular) with A = QR, for m >= n (``torch.linalg.qr``). ``mode``
    "reduced" or "r" (R only, Q empty); "complete" is refused for tall inputs.

    Shape:
        - A: ``(*, m, n)`` with m >= n, float32 or float64.
        - output: ``(Q, R)``: ``(*, m, n)`` and ``(*, n, n)`` ('reduced'); 'r' returns an empty Q.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims.
        DTypeError: ``A`` is not float32 or float64.
        NotImplementedError: m < n, or ``mode='complete'`` for a non-square input.
        RuntimeError: ``mode`` is not 'reduced', 'r' or 'complete'.
        LinAlgError: the LAPACK routine fails.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.qr``."""
    _matrix("qr", "A", A)
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise NotImplementedError(f"linalg.qr: ember supports m >= n, got a {m}x{n} input")
    if mode == "complete" and m != n:
        raise NotImplementedError("linalg.qr: mode='complete' is supported for square inputs only in ember")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: qr received unrecognized mode {mode!r} but expected one of 'reduced' "
                           f"(default), 'r', or 'complete'")
    Q, R = _lapack("qr", LinalgQr, A)
    if mode == "r":
        import ember
        return QRResult(ember.empty(0, dtype=A.dtype, device=A.device), R)
    return QRResult(Q, R)


# -- least squares and pseudo-inverse -----------------------------------------------------------------

@ops.op(namespaces=("linalg",), samples=lambda make: [Sample((make(4, 2), make(4, 3)), name="tall")], atol=1e-4, rtol=1e-3)
def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B for full-column-rank A (m >= n), through QR; as PyTorch's default CPU
    driver (gelsy), ``residuals`` and ``singular_values`` are empty and ``rank`` is n (``torch.linalg.lstsq``).

    Shape:
        - A: ``(*, m, n)`` with m >= n; B: ``(*, m, k)``; float32 or float64.
        - output: ``(solution, residuals, rank, singular_values)``, the solution ``(*, n, k)``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims.
        DTypeError: ``A`` is not float32 or float64.
        NotImplementedError: m < n (ember solves over-determined systems).
        TypeError: ``A`` or ``B`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.linalg.lstsq``."""
    _matrix("lstsq", "A", A)
    check_tensor("linalg.lstsq", "B", B)
    import ember
    vector = B.dim() == A.dim() - 1
    b = B.unsqueeze(-1) if vector else B
    if A.shape[-2] < A.shape[-1]:
        raise NotImplementedError("linalg.lstsq: ember supports m >= n (over-determined systems)")
    Q, R = qr(A)
    X = solve_triangular(R, Q.mT @ b, upper=True)
    empty = A.reshape(-1)[:0]  # empty, and on A's graph as PyTorch's are
    rank = ember.tensor(A.shape[-1], device=A.device)
    # as PyTorch's, residuals is on the graph and singular_values is not
    return LstsqResult(X.squeeze(-1) if vector else X, empty, rank, empty.detach())


@ops.op(namespaces=("linalg",), samples=lambda make: [Sample((make(3, 2),)), Sample((_well_conditioned(make, 3, 3),))],
        atol=1e-4, rtol=1e-3)
def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse through the SVD; singular values at or below max(atol, rtol * largest)
    count as zero (``torch.linalg.pinv``).

    Shape:
        - A: ``(*, m, n)``, float32 or float64.
        - output: ``(*, n, m)``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims.
        DTypeError: ``A`` is not float32 or float64.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.pinv``."""
    _matrix("pinv", "A", A)
    import ember
    if 0 in A.shape[-2:]:  # no singular values to cut: the (n, m) pseudo-inverse is empty
        return A.mT * 0
    U, S, Vh = svd(A, full_matrices=False)
    if rtol is None:
        rtol = max(A.shape[-2], A.shape[-1]) * ember.finfo(A.dtype).eps if atol is None or atol == 0 else 0.0
    cutoff = S.max(-1, keepdim=True).values * rtol
    if atol is not None:
        cutoff = cutoff.clamp(min=atol)
    keep = (S > cutoff).to(S.dtype)
    S_inv = keep / (S + (1 - keep))
    return (Vh.mT * S_inv.unsqueeze(-2)) @ U.mT


# -- norms ------------------------------------------------------------------------------------------

def _largest(values):
    """The max over the last dim, 0 over an empty one (a norm of nothing, as PyTorch's; the min-norms raise)."""
    if values.shape[-1] == 0:
        return values.sum(-1)
    return values.amax(-1)


@ops.op(namespaces=("linalg",), samples=lambda make: [
    Sample((make(3, 4),)), Sample((make(2, 3, 3),), {"ord": 1}), Sample((make(3, 3),), {"ord": float("inf")}),
    Sample((make(3, 2),), {"ord": "nuc"}), Sample((make(3, 2),), {"ord": 2}), Sample((make(3, 3),), {"ord": -1})],
    atol=1e-4, rtol=1e-3)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm over the two dims ``dim`` (``torch.linalg.matrix_norm``): "fro", "nuc", 1/-1 (max/min column
    sum of |A|), inf/-inf (max/min row sum), 2/-2 (largest/smallest singular value).

    Shape:
        - A: ``(*, m, n)`` (the matrices at ``dim``), float32 or float64.
        - output: ``(*)`` (``keepdim`` keeps two size-1 dims).

    Raises:
        ShapeError: ``A`` has fewer than 2 dims.
        DTypeError: ``A`` is not float32 or float64.
        RuntimeError: ``ord`` is not a supported order.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.matrix_norm``."""
    _matrix("matrix_norm", "A", A, low_precision=ord not in ("nuc", 2, -2))
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.dim() for d in dim)
    if ord == "fro":
        from ember.linalg import vector_norm
        return vector_norm(A, 2, (d0, d1), keepdim)
    moved = A.movedim((d0, d1), (-2, -1))
    if ord == "nuc" or ord in (2, -2):
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else (_largest(s) if ord == 2 else s.amin(-1))
    elif ord in (1, -1):
        sums = moved.abs().sum(-2)
        out = _largest(sums) if ord == 1 else sums.amin(-1)
    elif ord in (float("inf"), -float("inf")):
        sums = moved.abs().sum(-1)
        out = _largest(sums) if ord > 0 else sums.amin(-1)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out
