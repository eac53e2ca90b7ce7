"""What the other ConTree tools make of an auth.ini: contree-mcp's `Config`
and contree-sdk's `read_ini_profile`, each through its own import, printed
as JSON for tests/differential/other_tools.rs.

The spec comes on stdin (it may hold tokens): {"read": [profile names to
ask read_ini_profile about]} or {"mcp_write": [...], "mcp_delete": [...]}.
The config home comes from the environment (CONTREE_HOME, or XDG_CONFIG_HOME
or HOME), as each tool finds it. Tokens are printed only as the first 16 hex
digits of their SHA-256, as `contree auth ls` shows them.
"""

import hashlib
import json
import sys


def sha16(token):
    if token is None:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def failed(e):
    # The class and the message: a configparser message quotes the raw
    # value, so only the class is safe to print when it is about a value.
    return {"error": type(e).__name__}


def mcp_read():
    try:
        from contree_mcp.config import CONFIG_FILE, Config

        config = Config()
        resolved = config.resolve()
        return {
            "file": str(CONFIG_FILE),
            "active": config.active_name,
            "profiles": [
                {
                    "name": p.name,
                    "type": str(p.auth_type),
                    "url": p.url,
                    "project": p.project,
                    "token_sha256": sha16(p.token),
                }
                for p in config.values()
            ],
            "resolved": {
                "name": resolved.name,
                "type": str(resolved.auth_type),
                "url": resolved.url,
                "project": resolved.project,
                "token_sha256": sha16(resolved.token),
            },
        }
    except Exception as e:
        return failed(e)


def sdk_profile(name):
    try:
        from contree_sdk._internals.utils.auth_ini import read_ini_profile

        p = read_ini_profile(name)
    except Exception as e:
        return failed(e)
    if p is None:
        return None
    return {"type": p.type, "url": p.url, "project": p.project, "token_sha256": sha16(p.token)}


def sdk_read(names):
    from contree_sdk._internals.utils.auth_ini import _auth_ini_path

    return {
        "file": str(_auth_ini_path()),
        "active": sdk_profile(None),
        "by_name": {name: sdk_profile(name) for name in names},
    }


def mcp_write(profiles, deletes):
    from contree_mcp.config import AuthType, Config, ConfigProfile

    results = []
    for p in profiles:
        try:
            Config()[p["name"]] = ConfigProfile(
                name=p["name"],
                url=p["url"],
                token=p["token"],
                auth_type=AuthType(p["type"]),
                project=p.get("project"),
            )
            results.append({"ok": True})
        except Exception as e:
            results.append(failed(e))
    for name in deletes:
        try:
            del Config()[name]
            results.append({"ok": True})
        except Exception as e:
            results.append(failed(e))
    return results


spec = json.load(sys.stdin)
if "read" in spec:
    out = {"mcp": mcp_read(), "sdk": sdk_read(spec["read"])}
else:
    out = {"written": mcp_write(spec.get("mcp_write", []), spec.get("mcp_delete", []))}
print(json.dumps(out))
