"""Start-up of every lab module process (tests/lab only): a compile cache for the AnsiballZ payload.

The per-host interpreter launcher (``<fleet>/lab-python``, written by make_fleet.py) puts this folder on
``PYTHONPATH``, so Python imports it at start-up, before the AnsiballZ wrapper runs. Ansible ships a module
as a zip of *sources* (``ansible/module_utils/...``, the stand-in itself) that ``zipimport`` compiles on
every call: 0.15-0.25 CPU s of the ~0.5 s a lab module call cost, the same sources every time. Here
``zipimport``'s compile step looks the source up in a content-addressed cache first (key: SHA-1 of the
source bytes and the interpreter's cache tag; value: the marshalled code object) and compiles only on a
miss. The module's code is exactly what ``compile`` makes of the same source; only ``co_filename`` is
set back to this call's payload path, so tracebacks read as without the cache. Any cache problem falls
back to a plain compile. The lab engine (``osce_lab``, imported from the tree) gets ordinary ``.pyc``
files under the same cache folder (``sys.pycache_prefix``), even with ``PYTHONDONTWRITEBYTECODE`` set.

``OSCE_LAB_PYCACHE`` names the cache folder (the launcher sets ``<repo>/.build/lab-pycache``); unset or
empty: no cache, Python behaves as without this file.
"""
import os
import sys


def _install(cache: str) -> None:
    import marshal
    import zipimport
    from hashlib import sha1

    tag = (sys.implementation.cache_tag or "py").encode()
    compile_source = zipimport._compile_source  # (pathname, source) -> code; CPython 3.8-3.12

    def relabel(code, filename):
        consts = tuple(relabel(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
        return code.replace(co_filename=filename, co_consts=consts)

    seen = {}  # zipimport fetches a module's code twice (find_spec's get_filename, then exec_module)

    def cached_compile_source(pathname, source):
        digest = sha1(tag + b"\0" + source).hexdigest()
        code = seen.get((pathname, digest))
        if code is not None:
            return code
        path = os.path.join(cache, digest + ".code")
        try:
            with open(path, "rb") as fh:
                code = seen[pathname, digest] = relabel(marshal.loads(fh.read()), pathname)
            return code
        except Exception:  # noqa: BLE001 - a miss or an unreadable entry: compile as zipimport does
            pass
        code = seen[pathname, digest] = compile_source(pathname, source)
        try:
            os.makedirs(cache, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(marshal.dumps(code))
            os.replace(tmp, path)
        except OSError:
            pass
        return code

    zipimport._compile_source = cached_compile_source
    sys.pycache_prefix = os.path.join(cache, "pyc")
    sys.dont_write_bytecode = False


if os.environ.get("OSCE_LAB_PYCACHE") and hasattr(__import__("zipimport"), "_compile_source"):
    _install(os.environ["OSCE_LAB_PYCACHE"])
