"""Reading and writing Janus ``.jcfg`` files (the libconfig syntax).

We generate Janus's configuration from Debian's own files rather than from templates of our
own, so options Debian sets (folders, protected folders, certificates) stay as packaged and a
Janus upgrade brings its new defaults along. That needs a parser for the libconfig subset Janus
uses (https://hyperrealm.github.io/libconfig/libconfig_manual.html#Configuration-Files):
groups ``{}``, arrays ``[]``, lists ``()``, strings, integers, floats, booleans and the three
comment styles. Comments are dropped on output: the generated files are not edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeAlias

Scalar: TypeAlias = str | int | float | bool
Value: TypeAlias = "Scalar | list[Value] | tuple[Value, ...] | dict[str, Value]"
Group: TypeAlias = dict[str, Value]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<float>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)|[-+]?(?:\d+\.\d*|\.\d+))
  | (?P<hex>0[xX][0-9a-fA-F]+L{0,2})
  | (?P<int>[-+]?\d+L{0,2})
  | (?P<bool>(?i:true|false)\b)
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}\[\]()])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", '"': '"', "\\": "\\"}


class JcfgSyntaxError(ValueError):
    """The text is not valid libconfig."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            line = text.count("\n", 0, pos) + 1
            raise JcfgSyntaxError(f"line {line}: unexpected {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), text.count("\n", 0, pos) + 1))
        pos = m.end()
    return out


def _unquote(literal: str) -> str:
    return re.sub(
        r"\\(x[0-9a-fA-F]{2}|.)",
        lambda m: (
            chr(int(m.group(1)[1:], 16))
            if m.group(1).startswith("x")
            else _ESCAPES.get(m.group(1), m.group(1))
        ),
        literal[1:-1],
    )


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expect: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise JcfgSyntaxError(f"unexpected end of file (expected {expect or 'more'})")
        if expect is not None and tok[1] != expect:
            raise JcfgSyntaxError(f"line {tok[2]}: expected {expect!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def settings(self, closing: str | None) -> Group:
        group: Group = {}
        while True:
            tok = self.peek()
            if tok is None:
                if closing is not None:
                    raise JcfgSyntaxError(f"unexpected end of file (expected {closing!r})")
                return group
            if closing is not None and tok[1] == closing:
                self.take()
                return group
            kind, name, line = self.take()
            if kind != "name":
                raise JcfgSyntaxError(f"line {line}: expected a setting name, got {name!r}")
            sep = self.take()
            if sep[1] not in ("=", ":"):
                raise JcfgSyntaxError(f"line {sep[2]}: expected '=' or ':' after {name!r}")
            group[name] = self.value()
            nxt = self.peek()
            if nxt is not None and nxt[1] in (";", ","):
                self.take()

    def value(self) -> Value:
        kind, text, line = self.take()
        if text == "{":
            return self.settings("}")
        if text in ("[", "("):
            closing = "]" if text == "[" else ")"
            items: list[Value] = []
            while True:
                nxt = self.peek()
                if nxt is not None and nxt[1] == closing:
                    self.take()
                    break
                items.append(self.value())
                nxt = self.peek()
                if nxt is not None and nxt[1] == ",":
                    self.take()
            return items if text == "[" else tuple(items)
        if kind == "string":
            parts = [_unquote(text)]
            while (nxt := self.peek()) is not None and nxt[0] == "string":
                parts.append(_unquote(self.take()[1]))  # adjacent strings concatenate
            return "".join(parts)
        if kind == "bool":
            return text.lower() == "true"
        if kind == "hex":
            return int(text.rstrip("L"), 16)
        if kind == "int":
            return int(text.rstrip("L"))
        if kind == "float":
            return float(text)
        raise JcfgSyntaxError(f"line {line}: expected a value, got {text!r}")


def loads(text: str) -> Group:
    """Parse libconfig text into nested dicts (groups), lists (arrays) and tuples (lists)."""
    return _Parser(text).settings(None)


def load(path: Path) -> Group:
    try:
        return loads(path.read_text())
    except JcfgSyntaxError as exc:
        raise JcfgSyntaxError(f"{path}: {exc}") from exc


def _scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if any(c in text for c in ".eEn") else text + ".0"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _render(value: Value, indent: int) -> str:
    pad = "\t" * indent
    if isinstance(value, dict):
        if not value:
            return "{\n" + pad + "}"
        body = "".join(
            f"{pad}\t{key} = {_render(item, indent + 1)}\n" for key, item in value.items()
        )
        return "{\n" + body + pad + "}"
    if isinstance(value, list | tuple):
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        if not value:
            return opening + closing
        items = ",\n".join(f"{pad}\t{_render(item, indent + 1)}" for item in value)
        return f"{opening}\n{items}\n{pad}{closing}"
    return _scalar(value)


def dumps(config: Group, *, header: str | None = None) -> str:
    """Render ``config`` as libconfig text Janus reads back to the same values."""
    lines = [f"# {line}" for line in (header or "").splitlines()]
    for name, value in config.items():
        sep = ":" if isinstance(value, dict) else "="
        lines.append(f"{name}{sep} {_render(value, 0)}")
    return "\n".join(lines) + "\n"


def dump(config: Group, path: Path, *, header: str | None = None) -> None:
    path.write_text(dumps(config, header=header))
