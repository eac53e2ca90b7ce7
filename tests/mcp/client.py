"""Drives `contree mcp` with the official MCP Python SDK, as an agent
runtime would, and prints what it saw as one JSON document on stdout. The
Rust test (tests/component/mcp/) decides what is right.

    python client.py SPEC_JSON

SPEC: {"sessions": [SESSION...], "parallel": bool}
SESSION: {"command": str, "args": [str], "env": {str: str},
          "mode": "session" (ClientSession(...).initialize())
                | "auto" (the high-level Client, default mode),
          "calls": [{"tool": str, "arguments": {...}} | {"list_tools": true}
                    | {"ping": true} | {"wait_for_tools": N}]}
`wait_for_tools` lists the tools until there are at least N (for 30 s at
most; a server may load its tools after it starts, as Wassette does) and
reports the last listing; with "ready_call": {"tool", "arguments"} and
"not_ready": TEXT it then repeats that call (30 s at most) while its answer
holds TEXT, and adds "ready_attempts" to the listing.
Output: {"sessions": [{"protocol_version", "server_info", "results": [...],
                        "tools": listing}]}
where each result is the tool listing, a CallToolResult as the server sent
it (by alias), or {"rpc_error": {"code", "message"}}; `tools` is a last
`tools/list`, whose output schemas the Rust test checks every result against.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client import Client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError


def dump(model):
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


async def run_calls(api, calls):
    """`api` has list_tools, call_tool and send_ping (Client and ClientSession both do)."""
    results = []
    for call in calls:
        try:
            if call.get("list_tools"):
                results.append(dump(await api.list_tools()))
            elif call.get("wait_for_tools"):
                for _ in range(300):
                    listing = await api.list_tools()
                    if len(listing.tools) >= call["wait_for_tools"]:
                        break
                    await asyncio.sleep(0.1)
                # Then, optionally, until a call stops answering `not_ready`
                # (Wassette applies a component's grants after its tools
                # appear; a call before that runs without them).
                ready = call.get("ready_call")
                attempts = 0
                while ready and attempts < 300:
                    attempts += 1
                    answer = dump(await api.call_tool(ready["tool"], ready.get("arguments")))
                    if call["not_ready"] not in json.dumps(answer):
                        break
                    await asyncio.sleep(0.1)
                result = dump(listing)
                if ready:
                    result["ready_attempts"] = attempts
                results.append(result)
            elif call.get("ping"):
                results.append(dump(await api.send_ping()))
            else:
                result = await api.call_tool(call["tool"], call.get("arguments"))
                results.append(dump(result))
        except MCPError as e:
            results.append({"rpc_error": {"code": e.error.code, "message": e.error.message}})
    return results


async def run_session(spec):
    params = StdioServerParameters(command=spec["command"], args=spec["args"], env=spec["env"])
    if spec["mode"] == "auto":
        async with Client(params) as client:
            results = await run_calls(client, spec["calls"])
            info = client.server_info
            return {
                "protocol_version": client.protocol_version,
                "server_info": dump(info) if info else None,
                "results": results,
                "tools": dump(await client.list_tools()),
            }
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            results = await run_calls(session, spec["calls"])
            return {
                "protocol_version": init.protocol_version,
                "server_info": dump(init.server_info),
                "results": results,
                "tools": dump(await session.list_tools()),
            }


async def main():
    spec = json.loads(sys.argv[1])
    if spec.get("parallel"):
        sessions = await asyncio.gather(*(run_session(s) for s in spec["sessions"]))
    else:
        sessions = [await run_session(s) for s in spec["sessions"]]
    print(json.dumps({"sessions": list(sessions)}))


asyncio.run(main())
