"""Reading the pickles inside PyTorch checkpoints: a restricted unpickler of ember's own, and the full one.

:class:`WeightsOnlyUnpickler` (``weights_only=True``, the default) interprets pickle opcodes itself.
A global is looked up in an allow-list (what a state dict needs: tensors, storages, containers,
numbers, strings, ``torch.Size``, dtypes, the rebuild functions PyTorch writes, plus what the user
added with ``add_safe_globals``); anything else is refused with :class:`WeightsOnlyError` naming it,
*before* anything it names is imported or called. Only allowed callables are called, objects are
built only for allowed types, and containers are filled only when they are real lists/dicts/sets.
A malformed pickle (stack underflow, unknown memo, bad argument types) is a CheckpointError naming
the file and the byte where it went wrong; no other exception escapes.

:func:`full_unpickler` (``weights_only=False``) is Python's own unpickler with torch's names mapped
to ember's: it runs whatever the file asks for, which is why it must be asked for explicitly.
"""

from __future__ import annotations

import codecs
import pickle
import struct
from collections import Counter, OrderedDict

from .errors import CheckpointError, WeightsOnlyError
from .safe_globals import user_allowed
from .torch_objects import resolve

__all__ = ["WeightsOnlyUnpickler", "full_unpickler", "BytesReader"]

_BLOCKED_MODULES = ("sys", "os", "posix", "nt", "subprocess", "shutil")  # named as such in the refusal
# Python 2 module names that protocol-2 pickles from Python 2 use (pickle's own mapping).
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_MAX_LINE = 1 << 16
# Hashing a tuple recurses through nested tuples in C without a recursion check: a dict key of
# tuples nested a million deep crashes the interpreter (Python's and torch's unpicklers both).
MAX_TUPLE_DEPTH = 256

UNSAFE_HINT = ("ember.load(weights_only=True) refuses globals that a state dict does not need, because "
               "unpickling runs what a file names. If you trust the file, load it with weights_only=False, or "
               "allow the class with ember.serialization.add_safe_globals([...]) / "
               "ember.serialization.safe_globals([...]).")


class BytesReader:
    """The reader interface of :class:`~ember.serialization.source.Source` over bytes in memory."""

    def __init__(self, data: bytes, name: str):
        self.data, self.name, self.pos = memoryview(data), name, 0

    def tell(self) -> int:
        return self.pos

    def read_exact(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise CheckpointError(f"{self.name}: {what} declares {n} bytes but only {len(self.data) - self.pos} "
                                  f"remain; the pickle is truncated or corrupt")
        chunk = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return chunk

    def readline(self, what: str) -> bytes:
        end = bytes(self.data[self.pos:self.pos + _MAX_LINE]).find(b"\n")
        if end < 0:
            raise CheckpointError(f"{self.name}: {what} has no end of line; the pickle is truncated or corrupt")
        return self.read_exact(end + 1, what)


class WeightsOnlyUnpickler:
    """Unpickle from ``reader`` allowing only state-dict objects (``torch.load(weights_only=True)``).

    ``persistent_load(pid)`` turns a persistent id (PyTorch's storages) into an object; ``encoding`` decodes
    Python 2 byte strings (``torch.load``'s default is utf-8).
    """

    def __init__(self, reader, name: str, persistent_load=None, encoding: str = "utf-8"):
        self.reader, self.name, self.persistent_load, self.encoding = reader, name, persistent_load, encoding
        self.readline = reader.readline
        self._user = user_allowed()
        self._callable: dict[int, object] = {}
        self._buildable: set = {OrderedDict, Counter}

    # -- globals ------------------------------------------------------------------------------------
    def find_global(self, module: str, name: str):
        module = _PY2_MODULES.get(module, module)
        full = f"{module}.{name}"
        found = resolve(full)
        if found is None and full in self._user:
            found = self._user[full]
            if isinstance(found, type):
                self._buildable.add(found)
        if found is None:
            why = (f" (module {module} is blocked)" if module.split(".")[0] in _BLOCKED_MODULES else "")
            raise WeightsOnlyError(f"{self.name}: weights-only load refused the global {full}{why}; "
                                   f"nothing it names was imported or run. {UNSAFE_HINT}")
        self._callable[id(found)] = found
        return found

    def _allowed_callable(self, func) -> bool:
        return self._callable.get(id(func)) is func and callable(func)

    # -- the loop -----------------------------------------------------------------------------------
    def load(self):
        """The unpickled object; WeightsOnlyError for refused globals, CheckpointError for malformed input."""
        self.stack: list = []
        self.metastack: list = []
        self.memo: dict = {}
        self.tuple_depth: dict = {}  # id -> (tuple, depth): kept alive so that ids stay unique
        try:
            return self._run()
        except CheckpointError as exc:
            message = str(exc)
            if message.startswith("<checkpoint>"):  # raised where the file's name is not known
                raise type(exc)(self.name + message[len("<checkpoint>"):]) from None
            raise
        except MemoryError:
            raise
        except RecursionError:
            raise CheckpointError(f"{self.name}: the pickle nests objects too deeply to be a checkpoint "
                                  f"(at byte {self.reader.tell()})") from None
        except Exception as exc:  # any other failure is the file's fault: say where, not how Python saw it
            raise CheckpointError(f"{self.name}: malformed pickle at byte {self.reader.tell()}: "
                                  f"{type(exc).__name__}: {exc}") from None

    def _run(self):
        read = self.reader.read_exact
        dispatch = _DISPATCH
        while True:
            code = read(1, "a pickle opcode")[0]
            handler = dispatch.get(code)
            if handler is None:
                raise WeightsOnlyError(f"{self.name}: weights-only load refused pickle opcode "
                                       f"{_opcode_name(code)} at byte {self.reader.tell() - 1}. {UNSAFE_HINT}")
            if handler is _stop:
                return self._pop()
            handler(self)

    def _pop(self):
        if not self.stack:
            raise CheckpointError(f"{self.name}: malformed pickle: stack underflow at byte {self.reader.tell()}")
        return self.stack.pop()

    def _pop_mark(self) -> list:
        if not self.metastack:
            raise CheckpointError(f"{self.name}: malformed pickle: no MARK at byte {self.reader.tell()}")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def _top(self):
        if not self.stack:
            raise CheckpointError(f"{self.name}: malformed pickle: stack underflow at byte {self.reader.tell()}")
        return self.stack[-1]

    def _read_int(self, fmt: str, what: str):
        return struct.unpack(fmt, self.reader.read_exact(struct.calcsize(fmt), what))[0]


def _opcode_name(code: int) -> str:
    import pickletools
    op = pickletools.code2op.get(chr(code))
    return f"{op.name} ({bytes([code])!r})" if op else f"{code:#04x}"


def _stop(u):  # handled in the loop
    pass


# -- opcode handlers ---------------------------------------------------------------------------------

def _push(value):
    return lambda u: u.stack.append(value)


def _mark(u):
    u.metastack.append(u.stack)
    u.stack = []


def _pop_op(u):
    if u.stack:
        u.stack.pop()
    else:
        u._pop_mark()


def _pop_mark_op(u):
    u._pop_mark()


def _dup(u):
    u.stack.append(u._top())


def _int_text(u):
    line = u.readline("an INT")[:-1]
    u.stack.append({b"00": False, b"01": True}.get(line) if line in (b"00", b"01") else int(line))


def _long_text(u):
    line = u.readline("a LONG")[:-1]
    u.stack.append(int(line[:-1] if line.endswith(b"L") else line))


def _float_text(u):
    u.stack.append(float(u.readline("a FLOAT")[:-1]))


def _binint(u):
    u.stack.append(u._read_int("<i", "a BININT"))


def _binint1(u):
    u.stack.append(u.reader.read_exact(1, "a BININT1")[0])


def _binint2(u):
    u.stack.append(u._read_int("<H", "a BININT2"))


def _long1(u):
    n = u.reader.read_exact(1, "a LONG1 length")[0]
    u.stack.append(pickle.decode_long(u.reader.read_exact(n, "a LONG1")))


def _long4(u):
    n = u._read_int("<i", "a LONG4 length")
    if n < 0:
        raise CheckpointError(f"{u.name}: malformed pickle: LONG4 with negative length {n}")
    u.stack.append(pickle.decode_long(u.reader.read_exact(n, "a LONG4")))


def _binfloat(u):
    u.stack.append(u._read_int(">d", "a BINFLOAT"))


def _decode_str(u, data: bytes):
    if u.encoding == "bytes":
        return data
    if u.encoding in ("latin1", "latin-1", "ASCII", "ascii"):
        return data.decode(u.encoding)
    return data.decode(u.encoding, "strict")


def _string_text(u):
    line = u.readline("a STRING")[:-1]
    if len(line) < 2 or line[:1] != line[-1:] or line[:1] not in (b"'", b'"'):
        raise CheckpointError(f"{u.name}: malformed pickle: STRING argument is not quoted")
    u.stack.append(_decode_str(u, codecs.escape_decode(line[1:-1])[0]))


def _binstring(u):
    n = u._read_int("<i", "a BINSTRING length")
    u.stack.append(_decode_str(u, u.reader.read_exact(n, "a BINSTRING")))


def _short_binstring(u):
    n = u.reader.read_exact(1, "a SHORT_BINSTRING length")[0]
    u.stack.append(_decode_str(u, u.reader.read_exact(n, "a SHORT_BINSTRING")))


def _unicode_text(u):
    u.stack.append(str(u.readline("a UNICODE")[:-1], "raw-unicode-escape"))


def _sized(fmt, what, convert):
    def handler(u):
        n = u._read_int(fmt, f"{what} length") if fmt else u.reader.read_exact(1, f"{what} length")[0]
        u.stack.append(convert(u.reader.read_exact(n, what)))
    return handler


def _utf8(data: bytes) -> str:
    return str(data, "utf-8", "surrogatepass")


def _new_tuple(u, items: tuple) -> tuple:
    """``items``, refused when tuples nest deeper than MAX_TUPLE_DEPTH (see there)."""
    depth = 1 + max((u.tuple_depth.get(id(x), (None, 1))[1] for x in items if type(x) is tuple), default=0)
    if depth > MAX_TUPLE_DEPTH:
        raise CheckpointError(f"{u.name}: the pickle nests tuples more than {MAX_TUPLE_DEPTH} deep (at byte "
                              f"{u.reader.tell()}); no checkpoint does, and hashing one would crash Python")
    if depth > 1:
        u.tuple_depth[id(items)] = (items, depth)
    return items


def _tuple(u):
    items = _new_tuple(u, tuple(u._pop_mark()))  # pop the mark before touching u.stack: it replaces it
    u.stack.append(items)


def _tuple_n(n):
    def handler(u):
        if len(u.stack) < n:
            raise CheckpointError(f"{u.name}: malformed pickle: stack underflow at byte {u.reader.tell()}")
        items = _new_tuple(u, tuple(u.stack[-n:]))
        del u.stack[-n:]
        u.stack.append(items)
    return handler


def _list(u):
    items = u._pop_mark()
    u.stack.append(items)


def _dict(u):
    items = u._pop_mark()
    if len(items) % 2:
        raise CheckpointError(f"{u.name}: malformed pickle: DICT with an odd number of items")
    u.stack.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})


def _frozenset(u):
    items = frozenset(u._pop_mark())
    u.stack.append(items)


def _append(u):
    value = u._pop()
    target = u._top()
    if type(target) is not list:
        raise WeightsOnlyError(f"{u.name}: weights-only load can only append to lists, got {type(target).__name__}")
    target.append(value)


def _appends(u):
    items = u._pop_mark()
    target = u._top()
    if type(target) is not list:
        raise WeightsOnlyError(f"{u.name}: weights-only load can only extend lists, got {type(target).__name__}")
    target.extend(items)


def _check_dict(u, target):
    if type(target) not in (dict, OrderedDict, Counter):
        raise WeightsOnlyError(f"{u.name}: weights-only load can only set items of dicts, got {type(target).__name__}")


def _setitem(u):
    value, key = u._pop(), u._pop()
    target = u._top()
    _check_dict(u, target)
    target[key] = value


def _setitems(u):
    items = u._pop_mark()
    target = u._top()
    _check_dict(u, target)
    if len(items) % 2:
        raise CheckpointError(f"{u.name}: malformed pickle: SETITEMS with an odd number of items")
    for i in range(0, len(items), 2):
        target[items[i]] = items[i + 1]


def _additems(u):
    items = u._pop_mark()
    target = u._top()
    if type(target) is not set:
        raise WeightsOnlyError(f"{u.name}: weights-only load can only add items to sets, got {type(target).__name__}")
    target.update(items)


def _memo_get(key):
    def handler(u):
        if key == "text":
            index = int(u.readline("a GET")[:-1])
        elif key == 1:
            index = u.reader.read_exact(1, "a BINGET")[0]
        else:
            index = u._read_int("<I", "a LONG_BINGET")
        if index not in u.memo:
            raise CheckpointError(f"{u.name}: malformed pickle: memo entry {index} read before it was written")
        u.stack.append(u.memo[index])
    return handler


def _memo_put(key):
    def handler(u):
        if key == "text":
            index = int(u.readline("a PUT")[:-1])
        elif key == 1:
            index = u.reader.read_exact(1, "a BINPUT")[0]
        else:
            index = u._read_int("<I", "a LONG_BINPUT")
        u.memo[index] = u._top()
    return handler


def _memoize(u):
    u.memo[len(u.memo)] = u._top()


def _frame(u):
    u._read_int("<Q", "a FRAME length")  # framing is only a hint to buffered readers


def _proto(u):
    version = u.reader.read_exact(1, "a PROTO")[0]
    if version > pickle.HIGHEST_PROTOCOL:
        raise CheckpointError(f"{u.name}: pickle protocol {version} is newer than this Python reads")


def _global(u):
    module = u.readline("a GLOBAL module")[:-1].decode("utf-8")
    name = u.readline("a GLOBAL name")[:-1].decode("utf-8")
    u.stack.append(u.find_global(module, name))


def _stack_global(u):
    name, module = u._pop(), u._pop()
    if type(name) is not str or type(module) is not str:
        raise CheckpointError(f"{u.name}: malformed pickle: STACK_GLOBAL needs two strings")
    u.stack.append(u.find_global(module, name))


def _reduce(u):
    args = u._pop()
    func = u._top()
    if not u._allowed_callable(func):
        raise WeightsOnlyError(f"{u.name}: weights-only load refused to call {_name_of(func)}. {UNSAFE_HINT}")
    if type(args) is not tuple:
        raise CheckpointError(f"{u.name}: malformed pickle: REDUCE arguments must be a tuple, got {type(args).__name__}")
    u.stack[-1] = func(*args)


def _newobj(u):
    args = u._pop()
    cls = u._top()
    if not (isinstance(cls, type) and u._allowed_callable(cls)):
        raise WeightsOnlyError(f"{u.name}: weights-only load refused to create {_name_of(cls)}. {UNSAFE_HINT}")
    if type(args) is not tuple:
        raise CheckpointError(f"{u.name}: malformed pickle: NEWOBJ arguments must be a tuple")
    u.stack[-1] = cls.__new__(cls, *args)


def _newobj_ex(u):
    kwargs, args = u._pop(), u._pop()
    cls = u._top()
    if not (isinstance(cls, type) and u._allowed_callable(cls)):
        raise WeightsOnlyError(f"{u.name}: weights-only load refused to create {_name_of(cls)}. {UNSAFE_HINT}")
    if type(args) is not tuple or type(kwargs) is not dict:
        raise CheckpointError(f"{u.name}: malformed pickle: NEWOBJ_EX needs a tuple and a dict")
    u.stack[-1] = cls.__new__(cls, *args, **kwargs)


def _build(u):
    state = u._pop()
    inst = u._top()
    kind = type(inst)
    if kind in (OrderedDict, Counter):
        if not isinstance(state, dict):
            raise CheckpointError(f"{u.name}: malformed pickle: BUILD state for {kind.__name__} must be a dict")
        inst.__dict__.update(state)
        return
    if kind not in u._buildable:
        raise WeightsOnlyError(f"{u.name}: weights-only load can only build OrderedDict or classes allowed with "
                               f"add_safe_globals, got {kind.__module__}.{kind.__qualname__}. {UNSAFE_HINT}")
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None and getattr(kind, "__setstate__", None) is not getattr(object, "__setstate__", None):
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        inst.__dict__.update(state)
    if slotstate:
        for key, value in slotstate.items():
            setattr(inst, key, value)


def _persid_text(u):
    pid = u.readline("a PERSID")[:-1].decode("ascii")
    _persistent(u, pid)


def _binpersid(u):
    _persistent(u, u._pop())


def _persistent(u, pid):
    if u.persistent_load is None:
        raise CheckpointError(f"{u.name}: malformed pickle: a persistent id where none is expected")
    if type(pid) is not tuple or not pid or _ascii(pid[0]) not in ("storage", "module"):
        raise WeightsOnlyError(f"{u.name}: weights-only load only resolves persistent ids of storages, got "
                               f"{type(pid).__name__}")
    u.stack.append(u.persistent_load(pid))


def _ascii(value):
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _name_of(obj) -> str:
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{name}" if module and name else f"an object of type {type(obj).__name__}"


_OPS = {
    pickle.MARK: _mark, pickle.STOP: _stop, pickle.POP: _pop_op, pickle.POP_MARK: _pop_mark_op, pickle.DUP: _dup,
    pickle.FLOAT: _float_text, pickle.INT: _int_text, pickle.BININT: _binint, pickle.BININT1: _binint1,
    pickle.LONG: _long_text, pickle.BININT2: _binint2, pickle.NONE: _push(None), pickle.PERSID: _persid_text,
    pickle.BINPERSID: _binpersid, pickle.REDUCE: _reduce, pickle.STRING: _string_text,
    pickle.BINSTRING: _binstring, pickle.SHORT_BINSTRING: _short_binstring, pickle.UNICODE: _unicode_text,
    pickle.BINUNICODE: _sized("<I", "a BINUNICODE", _utf8), pickle.APPEND: _append, pickle.BUILD: _build,
    pickle.GLOBAL: _global, pickle.DICT: _dict, pickle.EMPTY_DICT: lambda u: u.stack.append({}),
    pickle.APPENDS: _appends, pickle.GET: _memo_get("text"), pickle.BINGET: _memo_get(1),
    pickle.LONG_BINGET: _memo_get(4), pickle.LIST: _list, pickle.EMPTY_LIST: lambda u: u.stack.append([]),
    pickle.PUT: _memo_put("text"), pickle.BINPUT: _memo_put(1), pickle.LONG_BINPUT: _memo_put(4),
    pickle.SETITEM: _setitem, pickle.TUPLE: _tuple, pickle.EMPTY_TUPLE: _push(()), pickle.SETITEMS: _setitems,
    pickle.BINFLOAT: _binfloat, pickle.PROTO: _proto, pickle.NEWOBJ: _newobj, pickle.TUPLE1: _tuple_n(1),
    pickle.TUPLE2: _tuple_n(2), pickle.TUPLE3: _tuple_n(3), pickle.NEWTRUE: _push(True),
    pickle.NEWFALSE: _push(False), pickle.LONG1: _long1, pickle.LONG4: _long4,
    pickle.BINBYTES: _sized("<I", "a BINBYTES", bytes), pickle.SHORT_BINBYTES: _sized(None, "a SHORT_BINBYTES", bytes),
    pickle.SHORT_BINUNICODE: _sized(None, "a SHORT_BINUNICODE", _utf8),
    pickle.BINUNICODE8: _sized("<Q", "a BINUNICODE8", _utf8), pickle.BINBYTES8: _sized("<Q", "a BINBYTES8", bytes),
    pickle.EMPTY_SET: lambda u: u.stack.append(set()), pickle.ADDITEMS: _additems, pickle.FROZENSET: _frozenset,
    pickle.NEWOBJ_EX: _newobj_ex, pickle.STACK_GLOBAL: _stack_global, pickle.MEMOIZE: _memoize,
    pickle.FRAME: _frame, pickle.BYTEARRAY8: _sized("<Q", "a BYTEARRAY8", bytearray),
}
# Not here, so refused: INST/OBJ (call a class found by name with any arguments), EXT1/2/4 (the
# copyreg extension registry), NEXT_BUFFER/READONLY_BUFFER (out-of-band buffers).
_DISPATCH = {op[0]: handler for op, handler in _OPS.items()}


def full_unpickler(handle, name: str, persistent_load, encoding: str = "utf-8", **kwargs):
    """Python's unpickler with PyTorch's tensor globals mapped to ember's (``weights_only=False``)."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, global_name):
            found = resolve(f"{_PY2_MODULES.get(module, module)}.{global_name}")
            return found if found is not None else super().find_class(module, global_name)

    unpickler = Unpickler(handle, encoding=encoding, **kwargs)
    unpickler.persistent_load = persistent_load
    return unpickler


def globals_in_pickle(data: bytes, name: str) -> set:
    """``"module.name"`` of every global the pickle ``data`` names, read without running anything."""
    import pickletools
    found, strings = set(), []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name == "GLOBAL":
                module, _, global_name = arg.partition(" ")
                found.add(f"{_PY2_MODULES.get(module, module)}.{global_name}")
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                found.add(f"{strings[-2]}.{strings[-1]}")
            elif isinstance(arg, str) and "UNICODE" in op.name:
                strings.append(arg)
            elif op.name == "STOP":
                break
    except Exception as exc:
        raise CheckpointError(f"{name}: malformed pickle ({type(exc).__name__}: {str(exc)[:100]})") from None
    return found
