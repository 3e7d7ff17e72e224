"""Regex validations whose cost is bounded whatever the pattern.

Python's ``re`` backtracks: ``\\d+\\d+\\d+x`` takes minutes on 1,000 digits, and no rule about nested
quantifiers catches every such pattern. So a pattern is checked by ``re.compile`` (syntax), then parsed
with Python's own regex parser and compiled into a small NFA program that is run by simulation (the
Thompson / Pike construction): the time to match is at most (program size) x (value length), never
exponential. ``re`` itself never runs a merchant's pattern on a customer's value.

Supported: literals, ``.``, character classes (ranges, ``\\d \\w \\s`` and their negations), groups
(capturing or not), alternation ``|``, quantifiers ``* + ? {m,n}`` (greedy or lazy: the same for a yes /
no answer), anchors ``^ $ \\A \\Z \\b \\B``. Refused: backreferences, lookarounds, conditionals,
possessive quantifiers and atomic groups, inline flags (``(?i)`` ...). Matching is ``re.search``'s: the
pattern may match anywhere in the value; anchor it with ``^...$`` to match the whole value.
"""

import re
from re import _constants as C
from re import _parser as sre_parse

MAX_PATTERN_LENGTH = 200
MAX_PROGRAM_SIZE = 1000  # NFA instructions, after expanding {m,n}


class UnsafePattern(ValueError):
    pass


# --------------------------------------------------------------------------- character predicates

def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


_CATEGORIES = {
    C.CATEGORY_DIGIT: str.isdecimal,
    C.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    C.CATEGORY_SPACE: str.isspace,
    C.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    C.CATEGORY_WORD: _is_word,
    C.CATEGORY_NOT_WORD: lambda c: not _is_word(c),
}


def _class_predicate(items):
    negate = False
    checks = []
    for op, arg in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            checks.append(lambda c, code=arg: ord(c) == code)
        elif op is C.RANGE:
            checks.append(lambda c, lo=arg[0], hi=arg[1]: lo <= ord(c) <= hi)
        elif op is C.CATEGORY and arg in _CATEGORIES:
            checks.append(_CATEGORIES[arg])
        else:
            raise UnsafePattern(f"this kind of character class item is not supported ({op}).")
    if negate:
        return lambda c: not any(check(c) for check in checks)
    return lambda c: any(check(c) for check in checks)


# --------------------------------------------------------------------------- compiling to an NFA program
# Instructions: ("char", predicate) consumes one character; ("split", a, b) and ("jmp", a) are epsilon
# moves; ("assert", kind) is an epsilon move taken only where the anchor holds; ("match",) accepts.

_ASSERTS = {C.AT_BEGINNING, C.AT_BEGINNING_STRING, C.AT_END, C.AT_END_STRING, C.AT_BOUNDARY, C.AT_NON_BOUNDARY}
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT}


class _Compiler:
    def __init__(self):
        self.program: list = []

    def emit(self, instruction) -> int:
        if len(self.program) >= MAX_PROGRAM_SIZE:
            raise UnsafePattern(f"the pattern is too complex (more than {MAX_PROGRAM_SIZE} steps once "
                                "its {m,n} repetitions are expanded).")
        self.program.append(instruction)
        return len(self.program) - 1

    def patch(self, index: int, instruction) -> None:
        self.program[index] = instruction

    def sequence(self, items) -> None:
        for op, arg in items:
            self.node(op, arg)

    def node(self, op, arg) -> None:
        if op is C.LITERAL:
            self.emit(("char", lambda c, code=arg: ord(c) == code))
        elif op is C.NOT_LITERAL:
            self.emit(("char", lambda c, code=arg: ord(c) != code))
        elif op is C.ANY:
            self.emit(("char", lambda c: c != "\n"))
        elif op is C.IN:
            self.emit(("char", _class_predicate(arg)))
        elif op is C.AT:
            if arg not in _ASSERTS:
                raise UnsafePattern(f"the anchor {arg} is not supported.")
            self.emit(("assert", arg))
        elif op is C.SUBPATTERN:
            _group, add_flags, del_flags, body = arg
            if add_flags or del_flags:
                raise UnsafePattern("inline flags such as (?i) are not supported; use character classes.")
            self.sequence(body)
        elif op is C.BRANCH:
            self.branch(arg[1])
        elif op in _REPEATS:
            self.repeat(*arg)
        elif op is C.GROUPREF or op is C.GROUPREF_EXISTS:
            raise UnsafePattern("backreferences are not allowed.")
        elif op is C.ASSERT or op is C.ASSERT_NOT:
            raise UnsafePattern("lookahead and lookbehind assertions are not allowed.")
        else:  # POSSESSIVE_REPEAT, ATOMIC_GROUP, ...
            raise UnsafePattern(f"this construct is not supported ({op}).")

    def branch(self, alternatives) -> None:
        jumps = []
        for index, alternative in enumerate(alternatives):
            if index < len(alternatives) - 1:
                split = self.emit(None)
                self.sequence(alternative)
                jumps.append(self.emit(None))
                self.patch(split, ("split", split + 1, len(self.program)))
            else:
                self.sequence(alternative)
        for jump in jumps:
            self.patch(jump, ("jmp", len(self.program)))

    def optional(self, body) -> None:
        split = self.emit(None)
        self.sequence(body)
        self.patch(split, ("split", split + 1, len(self.program)))

    def star(self, body) -> None:
        split = self.emit(None)
        self.sequence(body)
        self.emit(("jmp", split))
        self.patch(split, ("split", split + 1, len(self.program)))

    def repeat(self, low: int, high: int, body) -> None:
        for _ in range(low):
            self.sequence(body)
        if high == C.MAXREPEAT:
            self.star(body)
        else:
            for _ in range(high - low):
                self.optional(body)


def compile_pattern(pattern: str) -> list:
    """The NFA program of ``pattern``, or UnsafePattern / re.error naming the problem."""
    if not isinstance(pattern, str):
        raise UnsafePattern("the pattern must be a string.")
    if not pattern:
        raise UnsafePattern("the pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters.")
    if "\x00" in pattern:
        raise UnsafePattern("the pattern contains a NUL character.")
    re.compile(pattern)  # syntax first, with re's own messages
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & ~C.SRE_FLAG_UNICODE:
        raise UnsafePattern("inline flags such as (?i) are not supported; use character classes.")
    compiler = _Compiler()
    compiler.sequence(parsed)
    compiler.emit(("match",))
    return compiler.program


def _assert_holds(kind, text: str, pos: int) -> bool:
    length = len(text)
    if kind is C.AT_BEGINNING or kind is C.AT_BEGINNING_STRING:
        return pos == 0
    if kind is C.AT_END:  # $ without MULTILINE: the end, or before a final newline
        return pos == length or (pos == length - 1 and text[-1] == "\n")
    if kind is C.AT_END_STRING:
        return pos == length
    before = pos > 0 and _is_word(text[pos - 1])
    after = pos < length and _is_word(text[pos])
    at_boundary = before != after
    if kind is C.AT_BOUNDARY:
        return at_boundary and length > 0
    return not at_boundary and length > 0  # AT_NON_BOUNDARY (\B never matches in an empty string)


def search(program: list, text: str) -> bool:
    """True when the pattern matches somewhere in ``text`` (as bool(re.search(pattern, text)))."""

    def closure(start_pcs, pos: int, into: list, seen: set) -> bool:
        """Follow epsilon moves from ``start_pcs``; collect "char" states; True on reaching "match"."""
        stack = list(reversed(start_pcs))
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            instruction = program[pc]
            kind = instruction[0]
            if kind == "char":
                into.append(pc)
            elif kind == "match":
                return True
            elif kind == "jmp":
                stack.append(instruction[1])
            elif kind == "split":
                stack.append(instruction[2])
                stack.append(instruction[1])
            elif _assert_holds(instruction[1], text, pos):  # "assert"
                stack.append(pc + 1)
        return False

    current: list = []
    seen: set = set()
    if closure([0], 0, current, seen):
        return True
    for pos, char in enumerate(text):
        following: list = []
        seen = set()
        advanced = [pc + 1 for pc in current if program[pc][1](char)]
        # search semantics: a new attempt starts at every position
        if closure(advanced + [0], pos + 1, following, seen):
            return True
        current = following
    return False
