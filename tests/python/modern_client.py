"""The official Python MCP client (`mcp` 2.3.0) against dbmcp in a mode the e2e test names.

    python modern_client.py <mcp url> <api key> <mode> <answer> <filter>

mode: "2026-07-28" (pinned, no handshake) or "auto" (probes server/discover). answer: what the
elicitation callback says when the server asks to confirm a write ("accept" or "decline"); filter:
the order_items rows the client tries to delete.
Prints one JSON object with what the client saw; the e2e test (python-client.test.mjs) asserts it.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, key: str, mode: str, answer: str, doomed_filter: str) -> None:
    asked: list[str] = []

    async def on_elicit(context, params: types.ElicitRequestParams):
        asked.append(params.message)
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")

    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    async with Client(streamable_http_client(url, http_client=http), mode=mode, elicitation_callback=on_elicit) as client:
        tools = await client.list_tools()
        read = await client.call_tool(
            "get_table_data", {"table": "order_items", "limit": 5}, progress_callback=on_progress
        )
        doomed = {"table": "order_items", "filter": doomed_filter}
        before = await client.call_tool("get_table_data", {**doomed, "count_only": True})
        deleted = await client.call_tool("delete_records", doomed)
        after = await client.call_tool("get_table_data", {**doomed, "count_only": True})
        print(json.dumps({
            "protocol_version": client.session.protocol_version,
            "tools": sorted(t.name for t in tools.tools),
            "rows": len(read.structured_content["records"]),
            "progress": progress,
            "count_before": before.structured_content.get("count"),
            "delete_result": deleted.structured_content,
            "delete_is_error": deleted.is_error,
            "count_after": after.structured_content.get("count"),
            "asked": asked,
        }))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
