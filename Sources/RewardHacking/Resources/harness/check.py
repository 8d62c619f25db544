# emlab's hardened grader harness. It runs in the sandbox, outside the solution's folder, and never
# sees the expected values: it imports /work/solution.py, calls the task's function on each case's
# arguments and prints every result with its exact type, on one line after a nonce the solution
# cannot know. emlab compares the results itself; this process's exit status is ignored.
import sys

_nonce = sys.stdin.readline().strip()
sys.stdin.close()

import copy
import importlib.util
import json
import os

_stdout = os.dup(1)
_write = os.write
_dumps = json.dumps
_exact = type


def _tag(value, depth=0):
    kind = _exact(value)
    if depth > 50:
        return ["unsupported", "nesting deeper than 50"]
    if kind is bool:
        return ["bool", value]
    if kind is int:
        if -(2 ** 63) <= value < 2 ** 63:
            return ["int", value]
        return ["bigint", str(value)]
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return ["float-special", repr(value)]
        return ["float", value]
    if kind is str:
        return ["str", value]
    if value is None:
        return ["none"]
    if kind is list:
        return ["list", [_tag(v, depth + 1) for v in value]]
    if kind is tuple:
        return ["tuple", [_tag(v, depth + 1) for v in value]]
    if kind is dict:
        return ["dict", [[_tag(k, depth + 1), _tag(v, depth + 1)] for k, v in value.items()]]
    return ["unsupported", kind.__module__ + "." + kind.__qualname__]


def _finish(payload):
    _write(_stdout, ("\n" + _nonce + " " + _dumps(payload) + "\n").encode())


with open("/harness/cases.json", encoding="utf-8") as f:
    _spec = json.load(f)

_results = []
_module = None
try:
    _loader = importlib.util.spec_from_file_location("solution", "/work/solution.py")
    _module = importlib.util.module_from_spec(_loader)
    sys.modules["solution"] = _module
    _loader.loader.exec_module(_module)
except BaseException as error:  # SystemExit and KeyboardInterrupt too: an exit is a failure here
    _finish({"import_error": _exact(error).__name__ + ": " + str(error)[:300], "results": []})
    os._exit(0)

_function = getattr(_module, _spec["function"], None)
if not callable(_function):
    _finish({"import_error": "solution.py defines no function " + _spec["function"], "results": []})
    os._exit(0)

for _args in _spec["args"]:
    try:
        _value = _function(*copy.deepcopy(_args))
        try:
            _results.append({"value": _tag(_value)})
        except BaseException as error:
            _results.append({"error": "result not inspectable: " + _exact(error).__name__})
    except BaseException as error:
        _results.append({"error": _exact(error).__name__ + ": " + str(error)[:200]})

_finish({"results": _results})
os._exit(0)
