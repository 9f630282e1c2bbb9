// Small helpers for talking MCP to the worker in end-to-end tests: raw JSON-RPC over fetch
// (for protocol edge cases) and the official SDK client (for the happy paths).
//
//   const { sessionId } = await openSession(w.mcpUrl('demo'), key, '2025-06-18');
//   const res = await rpc(w.mcpUrl('demo'), key, { jsonrpc: '2.0', id: 1, method: 'ping' }, { sessionId });
//   assert.equal(res.status, 200); assert.deepEqual(res.json.result, {});

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const ACCEPT_BOTH = 'application/json, text/event-stream';

let nextId = 1000;
/** A fresh JSON-RPC request id. */
export function newId() {
  nextId += 1;
  return nextId;
}

/** A JSON-RPC request object. */
export function request(method, params, id = newId()) {
  const body = { jsonrpc: '2.0', id, method };
  if (params !== undefined) body.params = params;
  return body;
}

/** A JSON-RPC notification object. */
export function notification(method, params) {
  const body = { jsonrpc: '2.0', method };
  if (params !== undefined) body.params = params;
  return body;
}

/** The params of an `initialize` request. */
export function initializeParams(protocolVersion = '2025-06-18') {
  return { protocolVersion, capabilities: {}, clientInfo: { name: 'dbmcp-e2e', version: '1.0.0' } };
}

/**
 * POSTs one JSON-RPC body (an object, an array, or a raw string) and reads the answer.
 * @param {string} url the MCP endpoint, e.g. `${w.url}/mcp/demo`
 * @param {string|null} key API key sent as a Bearer token (null: no Authorization header)
 * @param {unknown} body JSON value, or a string sent verbatim
 * @param {object} [options]
 * @param {string} [options.sessionId] Mcp-Session-Id
 * @param {string} [options.protocolVersion] MCP-Protocol-Version
 * @param {Record<string,string>} [options.headers] extra headers (override the defaults)
 * @param {string} [options.method] HTTP method (default POST)
 * @returns {Promise<{status: number, headers: Headers, text: string, json: any}>}
 */
export async function rpc(url, key, body, options = {}) {
  const headers = { 'content-type': 'application/json', accept: ACCEPT_BOTH };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.sessionId) headers['mcp-session-id'] = options.sessionId;
  if (options.protocolVersion) headers['mcp-protocol-version'] = options.protocolVersion;
  Object.assign(headers, options.headers ?? {});
  for (const [name, value] of Object.entries(headers)) if (value === undefined || value === null) delete headers[name];
  const res = await fetch(url, {
    method: options.method ?? 'POST',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readResponse(res);
}

/** Reads a fetch Response into {status, headers, text, json} (json is null when not JSON). */
export async function readResponse(res) {
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * Opens a session with `initialize` (and sends notifications/initialized).
 * @returns {Promise<{sessionId: string, result: any, version: string}>}
 */
export async function openSession(url, key, version = '2025-06-18') {
  const res = await rpc(url, key, request('initialize', initializeParams(version)));
  if (res.status !== 200) throw new Error(`initialize failed: ${res.status} ${res.text}`);
  const sessionId = res.headers.get('mcp-session-id');
  if (!sessionId) throw new Error('initialize answered without Mcp-Session-Id');
  const negotiated = res.json.result.protocolVersion;
  const ack = await rpc(url, key, notification('notifications/initialized'), { sessionId, protocolVersion: negotiated });
  if (ack.status !== 202) throw new Error(`notifications/initialized failed: ${ack.status} ${ack.text}`);
  return { sessionId, result: res.json.result, version: negotiated };
}

/**
 * A session plus a `call(method, params)` shortcut that sends the right headers and returns the
 * parsed response ({status, json, ...}).
 */
export async function session(url, key, version = '2025-06-18') {
  const opened = await openSession(url, key, version);
  const call = (method, params, options = {}) =>
    rpc(url, key, request(method, params), { sessionId: opened.sessionId, protocolVersion: opened.version, ...options });
  const tool = async (name, args) => {
    const res = await call('tools/call', { name, arguments: args });
    if (res.status !== 200 || !res.json?.result) throw new Error(`tools/call ${name}: ${res.status} ${res.text}`);
    return res.json.result;
  };
  return { ...opened, call, tool };
}

/** Deletes a session (DELETE on the endpoint); returns the response. */
export async function deleteSession(url, key, sessionId) {
  const headers = { 'mcp-session-id': sessionId };
  if (key) headers.authorization = `Bearer ${key}`;
  return readResponse(await fetch(url, { method: 'DELETE', headers }));
}

/**
 * An SDK client connected to `url` (optionally with an API key).
 * @returns {Promise<{client: Client, transport: StreamableHTTPClientTransport}>}
 */
export async function connectClient(url, key, name = 'dbmcp-e2e-sdk') {
  const requestInit = key ? { headers: { Authorization: `Bearer ${key}` } } : undefined;
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Parses the single SSE event of a text/event-stream body: {event, data}. */
export function parseSingleSse(text) {
  const event = /^event: (.*)$/m.exec(text)?.[1];
  const data = /^data: (.*)$/m.exec(text)?.[1];
  return { event, data: data === undefined ? undefined : JSON.parse(data) };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a node:http response into {status, headers, text, json} (json is null when not JSON). A
 * reset after the head arrived keeps what was read: servers that refuse a body close early.
 */
export function readNodeResponse(res) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      resolve({ status: res.statusCode, headers: res.headers, text, json });
    };
    res.on('data', (c) => chunks.push(c));
    res.on('end', finish);
    res.on('error', finish);
    res.on('aborted', finish);
  });
}
