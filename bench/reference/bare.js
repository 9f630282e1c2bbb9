// Bare reference worker for `npm run bench`: the floor under any MCP server on this runtime.
//
// What it does, per POST: one KV read to check the bearer key (SHA-256 of the key, record
// `apikey:<hash>` for the service `demo`, as the product stores it), parses the JSON body, takes
// `params.arguments.limit` (or `limit` at the top level), runs the same SELECT as the product's
// get_table_data on order_items with bound values (bench/reference/query.js), and answers the rows
// as JSON shaped like the product's result (`{content:[{type:'text',text}], structuredContent}`),
// so it serializes the rows twice as the product does.
//
// What it does not do: no MCP (no JSON-RPC validation, no sessions, no protocol version, no tool
// catalog or schema introspection, no argument validation beyond the limit, no filter or order
// parsing: the statement is fixed), no OAuth, no Origin check, no revocation or rate-limit state,
// no CORS. It is a lower bound, not a competitor.

import { apiKeyAllows, orderItems, rowLimit } from './query.js';

export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('POST only', { status: 405 });
    if (!(await apiKeyAllows(request, env.DBMCP_KV, 'demo'))) return new Response('unauthorized', { status: 401 });
    let body;
    try {
      body = await request.json();
    } catch {
      return new Response('body is not JSON', { status: 400 });
    }
    const limit = rowLimit(body?.params?.arguments?.limit ?? body?.limit);
    if (limit === null) return new Response('limit must be an integer from 1 to 1000', { status: 400 });
    const value = await orderItems(env.DB, limit);
    const result = { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value, isError: false };
    return Response.json({ jsonrpc: '2.0', id: body?.id ?? null, result });
  },
};
