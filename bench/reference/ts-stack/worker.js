// TypeScript-stack reference worker for `npm run bench`: what a Worker built on Cloudflare's
// `agents` package and the MCP TypeScript SDK v2 costs for the same tool call as the product.
//
// `createMcpHandler` from `agents/mcp/server` wraps the SDK v2 `createMcpHandler`
// (@modelcontextprotocol/server 2.4.0): stateless, a new McpServer per request, no Durable Object.
// It serves the modern era (2026-07-28, per-request `_meta` envelope) and, through its Legacy
// compatibility lane, 2025-era clients (initialize, then calls; no session is kept).
//
// One tool, `get_table_data`, with a zod input schema like the product's main arguments; it runs the
// same SELECT as the product on order_items with bound values (../query.js) and returns the rows
// as text + structuredContent, as the product does. Before the handler, the same API key check as
// the product: one KV read (`apikey:<sha256 hex>` must belong to the service `demo`).
//
// What it does not do: no OAuth, no filter or order parsing (the statement is fixed; the tool only
// accepts table `order_items`), no schema introspection, no query budget, no session state.
// Bundled by scripts/bench.mjs with esbuild into .bench/ts-stack.js (not committed).

import { createMcpHandler } from 'agents/mcp/server';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { apiKeyAllows, orderItems } from '../query.js';

let database;

function buildServer() {
  const server = new McpServer({ name: 'ts-stack-reference', version: '1.0.0' });
  server.registerTool(
    'get_table_data',
    {
      description: 'Reads rows of a table.',
      inputSchema: z.object({
        table: z.string(),
        filter: z.string().optional(),
        order: z.string().optional(),
        limit: z.number().int().min(1).max(1000).optional(),
      }),
    },
    async ({ table, limit }) => {
      if (table !== 'order_items') {
        return { content: [{ type: 'text', text: `unknown table ${table}` }], isError: true };
      }
      const value = await orderItems(database, limit ?? 100);
      return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
    },
  );
  return server;
}

const handler = createMcpHandler(() => buildServer(), { route: '/mcp' });

export default {
  async fetch(request, env, ctx) {
    database = env.DB;
    if (request.method === 'POST' && !(await apiKeyAllows(request, env.DBMCP_KV, 'demo'))) {
      return new Response('unauthorized', { status: 401 });
    }
    return handler(request, env, ctx);
  },
};
