"""Pictures of a computation graph: Graphviz (DOT, SVG, PNG) or plain text for terminals.

Drawing reads the graph the engine recorded (each tensor's parents, op, value and gradient); it
is not part of the engine, and it imports the ``graphviz`` package only when it renders.

Each node shows its name and the op that made it (``u = b * c``), its shape, its forward value
(a summary for large arrays) and its gradient ``d output / d node`` after ``backward()``.
Unnamed intermediate tensors are called t1, t2, ...; unnamed scalar constants are written
into the expression that uses them (``J = 3 * v``) instead of getting a node of their own.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from logicat.core.errors import MissingDependencyError, ParameterError
from logicat.core.paths import atomic_write_bytes
from logicat.engines.autograd.tensor import Tensor, topological_order

FORMATS = ("text", "dot", "svg", "png")
_INFIX = {"+", "-", "*", "/", "@"}
_GRAD_COLOR = "#b03a2e"


def summarize(value: np.ndarray | None) -> str:
    """A short text for an array: the number itself, a few numbers, or mean and range."""
    if value is None:
        return "-"
    value = np.asarray(value)
    if value.size == 1:
        return f"{value.item() + 0.0:.6g}"  # + 0.0: no "-0"
    if value.size <= 4:
        return "[" + " ".join(f"{v + 0.0:.4g}" for v in value.ravel()) + "]"
    return f"mean {value.mean():.4g}, range [{value.min():.4g}, {value.max():.4g}]"


def _is_inline_constant(node: Tensor) -> bool:
    return not node._prev and node.name is None and not node.requires_grad and node.size == 1


class _Names:
    """Display names: a tensor's own name, an inline constant's value, else t1, t2, ..."""

    def __init__(self, order: list[Tensor]) -> None:
        self.names: dict[int, str] = {}
        count = 0
        for node in order:
            if node.name is not None:
                self.names[id(node)] = node.name
            elif _is_inline_constant(node):
                self.names[id(node)] = f"{node.data.item():g}"
            else:
                count += 1
                self.names[id(node)] = f"t{count}"

    def __getitem__(self, node: Tensor) -> str:
        return self.names[id(node)]

    def expression(self, node: Tensor) -> str:
        """``name = expression of the parents`` for an op, ``name`` for a leaf."""
        if not node._prev:
            return self[node]
        args = [self[p] for p in node._prev]
        op = node._op
        if op in _INFIX:
            expr = f"{args[0]} {op} {args[1]}"
        elif op == "neg":
            expr = f"-{args[0]}"
        elif op.startswith("**"):
            expr = f"{args[0]} ** {op[2:]}"
        elif op == "[]":
            expr = f"{args[0]}[...]"
        elif "(" in op:  # sum(axis=0) -> sum(x, axis=0); conv2d(stride=1) -> conv2d(X, W, stride=1)
            fn, rest = op.split("(", 1)
            expr = f"{fn}({', '.join(args)}, {rest}"
        else:
            expr = f"{op}({', '.join(args)})"
        return f"{self[node]} = {expr}"


def _nodes(root: Tensor) -> tuple[list[Tensor], _Names]:
    order = topological_order(root)
    names = _Names(order)
    return [n for n in order if not _is_inline_constant(n)], names


def _shape(node: Tensor) -> str:
    return str(node.shape) if node.ndim != 1 else f"({node.shape[0]},)"


def to_text(root: Tensor, title: str | None = None) -> str:
    """The graph as a table, inputs first: node, shape, value, grad (= d root / d node)."""
    nodes, names = _nodes(root)
    out_name = names[root]
    rows = [("node", "shape", "value", f"grad = d{out_name}/d(node)")]
    rows += [
        (names.expression(n), _shape(n), summarize(n.data), summarize(n.grad)) for n in nodes
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [title] if title else []
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r[:3], widths, strict=True)]
        lines.append("  ".join([*cells, r[3]]))
    lines.insert(2 if title else 1, "-" * max(len(line.rstrip()) for line in lines))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def to_dot(root: Tensor, title: str | None = None) -> str:
    """The graph in Graphviz's DOT language: one box per tensor, arrows in the forward direction."""
    nodes, names = _nodes(root)
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lines = [
        "digraph computation_graph {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t'
        + (f", label={_quote(title)}" if title else "")
        + "];",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        "  edge [color=gray40];",
    ]
    for n in nodes:
        fill = "#d6eaf8" if not n._prev and n.requires_grad else (
            "#eeeeee" if not n.requires_grad else ("#fdebd0" if n is root else "white")
        )
        rows = [
            f"<B>{html.escape(names.expression(n))}</B>",
            f'<FONT POINT-SIZE="9">shape {html.escape(_shape(n))}</FONT>',
            f"value {html.escape(summarize(n.data))}",
        ]
        if n.grad is not None:
            rows.append(f'<FONT COLOR="{_GRAD_COLOR}">grad {html.escape(summarize(n.grad))}</FONT>')
        table = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        label = f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{table}</TABLE>>'
        lines.append(f'  {ids[id(n)]} [label={label}, fillcolor="{fill}"];')
    for n in nodes:
        for p in n._prev:
            if id(p) in ids:
                lines.append(f"  {ids[id(p)]} -> {ids[id(n)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass
class LayerGraph:
    """A network drawn a layer to a node, with the shape of what flows on each edge: the view of
    a computation graph at the scale of layers (``network_graph`` builds one after a forward
    and a backward pass)."""

    #: (label, lines under it: parameters' shapes, value and gradient summaries)
    nodes: list[tuple[str, list[str]]]
    #: the shape on the edge from node i to node i + 1
    edges: list[str]

    def text(self, title: str | None = None) -> str:
        lines = [title] if title else []
        for i, (label, details) in enumerate(self.nodes):
            lines.append(label + ("  " + "; ".join(details) if details else ""))
            if i < len(self.edges):
                lines.append(f"   | {self.edges[i]}")
        return "\n".join(lines) + "\n"

    def dot(self, title: str | None = None) -> str:
        lines = [
            "digraph network {",
            '  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t'
            + (f", label={_quote(title)}" if title else "") + "];",
            '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", '
            "fontsize=11];",
            '  edge [color=gray40, fontname="Helvetica", fontsize=9];',
        ]
        for i, (label, details) in enumerate(self.nodes):
            rows = [f"<B>{html.escape(label)}</B>"] + [
                f'<FONT POINT-SIZE="9">{html.escape(d)}</FONT>' for d in details]
            table = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
            lines.append(f'  n{i} [label=<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
                         f"{table}</TABLE>>];")
        for i, shape in enumerate(self.edges):
            lines.append(f"  n{i} -> n{i + 1} [label={_quote(shape)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def network_graph(params: list[np.ndarray], activation: str, X: np.ndarray, y: np.ndarray,
                  loss: str = "cross_entropy") -> LayerGraph:
    """The layers of the network [W_1, b_1, ..., w, b] after one forward and one backward pass
    on (X (m, n), y (m,)): each layer's parameters, its output's summary and dJ/dW's."""
    from logicat.nn.backward import forward_cache
    from logicat.nn.network import Network

    network = Network.from_params(params, activation)
    cost, grads = network.cost_and_gradients(X, y, loss)
    m = X.shape[0]
    nodes = [("X", [f"shape ({m}, {X.shape[1]})"])]
    edges = [f"({m}, {X.shape[1]})"]
    z, records = forward_cache(network.layers, network.tensors, X)
    outputs = [x for x, _ in records[1:]] + [z]  # what each layer gave
    dense = [i for i, lay in enumerate(network.layers) if lay.type == "dense"]
    for k, i in enumerate(dense[:-1], start=1):  # a hidden layer: its dense and activation
        own = network.layers[i].own(network.tensors)
        W, b = own["weight"], own["bias"]
        A = outputs[i + 1]
        nodes.append((f"layer {k}: {activation}(A W + b)", [
            f"W {_shape_text(W.shape)}, b {_shape_text(b.shape)}",
            f"A{k} {summarize(A)}", f"dJ/dW {summarize(grads[2 * (k - 1)])}"]))
        edges.append(f"({m}, {A.shape[1]})")
    w = network.layers[dense[-1]].own(network.tensors)["weight"]
    nodes.append(("output: z = A w + b", [
        f"w {_shape_text(w.shape)}, b (1,)", f"z {summarize(z[:, 0])}",
        f"dJ/dw {summarize(grads[-2])}"]))
    edges.append(f"({m},)")
    nodes.append((f"J = mean {loss.replace('_', ' ')}", [f"value {cost:.6g}"]))
    return LayerGraph(nodes, edges)


def _shape_text(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else str(tuple(shape))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(
    root: Tensor | LayerGraph, path: str | Path, fmt: str | None = None,
    title: str | None = None,
) -> Path:
    """Write the graph (of tensors, or of layers) to ``path`` as text, DOT, SVG or PNG (by
    ``fmt``, else by the suffix).

    SVG and PNG need the ``graphviz`` Python package (``pip install 'logicat[graph]'``) and the
    Graphviz ``dot`` program (Debian: ``apt-get install graphviz``).
    """
    path = Path(path)
    fmt = fmt or format_for(path)
    if fmt == "text":
        data = text_of(root, title).encode()
    elif fmt == "dot":
        data = dot_of(root, title).encode()
    else:
        data = _pipe(dot_of(root, title), fmt)
    return atomic_write_bytes(path, data, "graph")


def text_of(root: Tensor | LayerGraph, title: str | None = None) -> str:
    return root.text(title) if isinstance(root, LayerGraph) else to_text(root, title)


def dot_of(root: Tensor | LayerGraph, title: str | None = None) -> str:
    return root.dot(title) if isinstance(root, LayerGraph) else to_dot(root, title)


def format_for(path: Path) -> str:
    """The format a file name asks for: .svg, .png, .dot/.gv or .txt."""
    suffixes = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".txt": "text"}
    fmt = suffixes.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(
            f"The graph file must end in .svg, .png, .dot, .gv or .txt. Got {path.name!r} instead."
        )
    return fmt


def _pipe(dot: str, fmt: str) -> bytes:
    try:
        import graphviz
    except ImportError:
        raise MissingDependencyError(
            "Rendering SVG or PNG needs the 'graphviz' package: pip install 'logicat[graph]'."
        ) from None
    try:
        return graphviz.Source(dot).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise MissingDependencyError(
            "Rendering SVG or PNG needs the Graphviz program 'dot' (Debian: apt-get install "
            "graphviz). Text and DOT output work without it."
        ) from None
