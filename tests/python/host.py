"""The contree-auth component embedded in Python with wasmtime-py.

    python host.py COMPONENT.wasm CONFIG_HOME [NAME=VALUE ...] < calls.json

`calls.json` is a JSON list of calls, each `{"fn": "list-profiles", "args":
[true]}`; records are JSON objects with the WIT field names, options are
`null` or the value, enums are strings. The component sees CONFIG_HOME as its
only preopened directory (at the same path) and only the NAME=VALUE
environment variables given. One JSON line per call goes to stdout:
`{"ok": VALUE}` or `{"err": {"tag": CASE, "val": PAYLOAD}}`.

`ContreeAuth` is the embedding itself, usable on its own.
"""

import json
import sys

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Linker, Record, Variant

# WIT 0.3.0: the world exports the functions itself, at the component's root.
FUNCTIONS = ["list-profiles", "save-profile", "switch-profile", "remove-profile", "whoami"]


class ContreeAuth:
    """One instance of the component, with its own store."""

    def __init__(self, engine, component, config_home, env):
        linker = Linker(engine)
        linker.add_wasip2()
        linker.add_wasi_http()  # wasi:http/outgoing-handler, for whoami
        wasi = WasiConfig()
        wasi.env = list(env.items())
        wasi.preopen_dir(config_home, config_home)
        # The component's log lines (such as the warning that auth.ini follows
        # the host's umask) go to its stderr: let them reach ours.
        wasi.inherit_stderr()
        self.store = Store(engine)
        self.store.set_wasi(wasi)
        self.store.set_wasi_http()
        self.instance = linker.instantiate(self.store, component)
        self.funcs = {}
        for name in FUNCTIONS:
            index = self.instance.get_export_index(self.store, name)
            if index is None:
                raise RuntimeError(f"the component does not export {name}")
            self.funcs[name] = self.instance.get_func(self.store, index)

    def call(self, name, *args):
        """Calls one function: ("ok", value) or ("err", Variant(tag, payload))."""
        func = self.funcs[name]
        result = func(self.store, *args)
        func.post_return(self.store)
        # `result<T, auth-error>`: the error arrives as a Variant, the value as itself.
        if isinstance(result, Variant):
            return "err", result
        return "ok", result


def to_record(value):
    """A JSON object as a WIT record (field names as in WIT, kebab-case)."""
    record = Record()
    for key, field in value.items():
        setattr(record, key, field)
    return record


def to_json(value):
    if isinstance(value, Record):
        return {key: to_json(field) for key, field in vars(value).items()}
    if isinstance(value, Variant):
        return {"tag": value.tag, "val": to_json(value.payload)}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def main():
    component_path, config_home, *pairs = sys.argv[1:]
    env = dict(pair.split("=", 1) for pair in pairs)
    engine = Engine()
    component = Component.from_file(engine, component_path)
    host = ContreeAuth(engine, component, config_home, env)
    for call in json.load(sys.stdin):
        args = [to_record(a) if isinstance(a, dict) else a for a in call.get("args", [])]
        kind, value = host.call(call["fn"], *args)
        print(json.dumps({kind: to_json(value)}), flush=True)


if __name__ == "__main__":
    main()
