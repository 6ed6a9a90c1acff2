"""The ``user_arg`` a callback receives."""


class UserArg:
    """Carries the object given to ``run_async(..., user_arg=...)``.

    ``user_arg.value`` is the object (DX-RT before 2.9.5, and the seed's
    examples); the wrapper also behaves like the object itself (indexing,
    iteration, equality, attributes), as newer DX-RT passes it bare.
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __getitem__(self, key):
        return self.value[key]

    def __iter__(self):
        return iter(self.value)

    def __len__(self):
        return len(self.value)

    def __contains__(self, item):
        return item in self.value

    def __eq__(self, other):
        if isinstance(other, UserArg):
            other = other.value
        return self.value == other

    def __hash__(self):
        return hash(self.value)

    def __bool__(self):
        return bool(self.value)

    def __int__(self):
        return int(self.value)

    def __index__(self):
        return self.value.__index__()

    def __float__(self):
        return float(self.value)

    def __str__(self):
        return str(self.value)

    def __repr__(self):
        return f"UserArg({self.value!r})"

    def __format__(self, spec):
        return format(self.value, spec)

    def __getattr__(self, name):
        return getattr(self.value, name)


def _delegate(name):
    def method(self, *args):
        return getattr(self.value, name)(*(
            a.value if isinstance(a, UserArg) else a for a in args))
    method.__name__ = name
    return method


# Operators are looked up on the type, not through __getattr__.
for _name in ("__lt__", "__le__", "__gt__", "__ge__", "__add__", "__radd__",
              "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__floordiv__", "__mod__", "__neg__", "__abs__"):
    setattr(UserArg, _name, _delegate(_name))
