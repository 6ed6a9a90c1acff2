"""The ``user_arg`` a callback receives.

DX-RT 2.9.5 and v3 hand the callback the object given to ``run_async``
itself (``isinstance``, ``json.dumps``, ``user_arg is None``); the code this
project started from reads ``user_arg.value``. Both work:

- ``None`` arrives as ``None``; an instance of your own class arrives as
  itself.
- A built-in value (list, dict, tuple, str, int, float, ...) arrives as an
  instance of a subclass of its type: equal to it, ``isinstance`` of its
  type, JSON-serialisable, with ``.value`` the original object. Changes
  made through it (``user_arg.append(x)``, ``user_arg[k] = v``) reach the
  original too.
- Anything else (a bool, a numpy array, ...) arrives as itself.
"""

_MUTATORS = {
    list: ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
           "insert", "pop", "remove", "clear", "sort", "reverse"),
    dict: ("__setitem__", "__delitem__", "__ior__", "pop", "popitem", "clear",
           "update", "setdefault"),
    bytearray: ("__setitem__", "__delitem__", "__iadd__", "append", "extend",
                "insert", "pop", "remove", "clear", "reverse"),
}

_subclasses = {}


def _write_through(base, name):
    own = getattr(base, name)

    def method(self, *args, **kwargs):
        getattr(self.value, name)(*args, **kwargs)
        result = own(self, *args, **kwargs)
        return self if name.startswith("__i") else result
    method.__name__ = name
    return method


def _subclass(base):
    cls = _subclasses.get(base)
    if cls is None:
        # Variable-size types take no slots: their instances get a __dict__.
        namespace = {} if base in _VARIABLE_SIZE else {"__slots__": ("value",)}
        for name in _MUTATORS.get(base, ()):
            namespace[name] = _write_through(base, name)
        cls = type(base.__name__, (base,), namespace)
        _subclasses[base] = cls
    return cls


_VARIABLE_SIZE = (int, tuple, bytes, str)
_WRAPPED = (list, dict, tuple, str, int, float, bytes, bytearray, set, frozenset,
            complex)


def callback_arg(value):
    """What the callback receives for ``run_async(..., user_arg=value)``."""
    if value is None or hasattr(value, "value"):
        return value
    base = type(value)
    if base in _WRAPPED:
        wrapped = _subclass(base)(value)
        wrapped.value = value
        return wrapped
    return value
