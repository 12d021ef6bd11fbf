"""Products: dot, vdot, matmul, einsum, tensordot, outer, inner, kron, trace, diag."""

__all__ = []
