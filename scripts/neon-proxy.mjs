// A Neon-compatible "SQL over HTTP" proxy for self-hosted PostgreSQL (development and tests).
//
//   node scripts/neon-proxy.mjs [--port 4444] [--host 127.0.0.1]
//        [--max-request-bytes N] [--max-response-bytes N] [--connection-timeout-ms N]
//        [--request-timeout-ms N] [--max-connections N] [--max-queued N] [--queue-timeout-ms N]
//   import { startNeonProxy } from './scripts/neon-proxy.mjs';
//   const proxy = await startNeonProxy({ port: 0 });   // { url, port, close() }
//   neonConfig.fetchEndpoint = proxy.url;              // e.g. http://127.0.0.1:4444/sql
//
// It speaks the protocol of Neon's serverless endpoint (neondatabase/neon proxy/src/serverless/
// sql_over_http.rs and json.rs) as used by `neon()` of @neondatabase/serverless, and forwards to
// any Postgres reachable from this machine with Node `pg`. Only for local use: it binds 127.0.0.1
// by default, has no TLS and no authentication of its own, and connects to whatever host the
// caller's connection string names.
//
// Request: POST /sql (any Content-Type; the official client sends none)
//   Neon-Connection-String: postgresql://user:password@host[:port]/database[?params]  (required)
//       The host must be a name (Neon routes by name); an IP address is refused like on Neon.
//       TLS parameters (sslmode, sslrootcert, channel_binding, ...) are ignored: this proxy talks
//       to the database without TLS. Other parameters (application_name, options) are passed on.
//   Neon-Raw-Text-Output: true   every non-null cell is Postgres's text output (as the client sends)
//   Neon-Array-Mode: true        rows are arrays instead of objects keyed by column name
//       Only the exact value "true" switches either on. A query may override array mode with
//       "arrayMode" in its JSON object.
//   Batches only: Neon-Batch-Isolation-Level: Serializable | ReadUncommitted | ReadCommitted |
//       RepeatableRead (anything else: 400 "invalid isolation level"), Neon-Batch-Read-Only: true,
//       Neon-Batch-Deferrable: true (echoed back as response headers, like Neon).
//   Authorization: Bearer <jwt>  not supported here (400).
//   Body, one query:  {"query": "SELECT $1::int AS n", "params": ["1"]}
//   Body, a batch:    {"queries": [{"query": "...", "params": [...]}, ...]}
//       Params: strings as they are, null as NULL, numbers/booleans/objects as their JSON text,
//       arrays as Postgres array literals (Neon's json_to_pg_text).
//
// Execution: each query goes through the extended protocol (Parse/Bind/Execute), so a string with
// several statements fails with 42601 as on Neon. A batch runs as BEGIN [options] ... COMMIT on one
// connection, and ROLLBACK when any query fails: a failing batch writes nothing. Connections come
// from a small pool per connection string; a connection left inside a transaction or broken is
// discarded rather than reused.
//
// Limits, so that one caller cannot hold the database or the proxy:
//   - Deadline: a request runs at most requestTimeoutMs (default 300 s). Past it, or as soon as
//     the HTTP caller disconnects, the running query is cancelled inside PostgreSQL (a protocol
//     CancelRequest, as psql's Ctrl-C sends) and its connection is discarded. Answer: 504 with
//     code 57014.
//   - Connections: at most maxConnections (default 5) per connection string run at once; up to
//     maxQueued (default 50) more wait, each at most queueTimeoutMs (default 10 s). A request
//     beyond the queue gets 429, one that waited too long 503 (both with Retry-After), at once
//     rather than after a connection timeout. Other connection strings have their own pools.
//   - Fair share: a request with a Dbmcp-Caller header (dbmcp sends one per service and
//     credential) belongs to that caller, who may hold at most maxConnections - 1 connections
//     and half the queue, so other callers of the same connection string always get through.
//
// Response 200 (Content-Type application/json), one query:
//   {"rowAsArray": true,
//    "fields": [{"name","dataTypeID","tableID","columnID","dataTypeSize","dataTypeModifier",
//                "format":"text"}],
//    "rows": [["1"]], "command": "SELECT", "rowCount": 1}
//   command/rowCount come from the command tag (INSERT: its second number; no number: null).
//   Without raw text output, cells are converted like Neon: bool -> true/false, int2/int4 -> number,
//   float4/float8 -> number (NaN/Infinity stay strings), json/jsonb -> embedded JSON, arrays ->
//   JSON arrays (elements converted the same way), everything else (int8, numeric, dates, ...) ->
//   its text.
// A batch: {"results": [<response of each query>, ...]}
//
// Errors (always JSON, with every key present):
//   {"message","code","detail","hint","position","internalPosition","internalQuery","severity",
//    "where","table","column","schema","dataType","constraint","file","line","routine"}
//   400  Postgres errors, including failed authentication (28P01) and unknown database (3D000);
//        also a missing/invalid Neon-Connection-String, a bad isolation level, a body that is not
//        {query}/{queries} JSON, and an unknown database host. Non-database errors have code "".
//   413  request body larger than maxRequestBytes (default 10 MiB, like Neon)
//   507  JSON response larger than maxResponseBytes (default 10 MiB, like Neon)
//   429  too many requests waiting for this connection string's connections (Retry-After: 1)
//   503  this connection string's connections stayed busy for queueTimeoutMs (Retry-After: 1)
//   504  the request passed requestTimeoutMs; its query was cancelled (code 57014)
//   500  database unreachable (connection refused, connection timeout) and other internal errors
//   404/405 for other paths/methods; OPTIONS answers CORS preflights.

import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MiB = 1024 * 1024;

const HEADER_CONN = 'neon-connection-string';
const HEADER_RAW = 'neon-raw-text-output';
const HEADER_ARRAY = 'neon-array-mode';
const HEADER_ISOLATION = 'neon-batch-isolation-level';
const HEADER_READ_ONLY = 'neon-batch-read-only';
const HEADER_DEFERRABLE = 'neon-batch-deferrable';
/** Who is asking (dbmcp: an opaque label of one service and credential), for fair sharing. */
const HEADER_CALLER = 'dbmcp-caller';

/** The caller's label: printable ASCII, at most 128 characters; anything else is unnamed. */
function callerLabel(value) {
  return typeof value === 'string' && value.length <= 128 && /^[\x21-\x7e]+$/.test(value) ? value : '';
}

const ISOLATION_LEVELS = {
  Serializable: 'SERIALIZABLE',
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
};

// Connection-string parameters about TLS: meaningless here (no TLS to the database).
const IGNORED_PARAMS = new Set([
  'sslmode', 'ssl', 'sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslpassword', 'sslnegotiation',
  'sslcompression', 'sslsni', 'channel_binding', 'uselibpqcompat', 'gssencmode', 'requiressl',
]);

const ERROR_KEYS = [
  'message', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'severity',
  'where', 'table', 'column', 'schema', 'dataType', 'constraint', 'file', 'line', 'routine',
];

// Every type's text output, untouched: the proxy converts (or not) by itself.
const RAW_TYPES = { getTypeParser: () => (value) => value };

// Scalar type OIDs that Neon's JSON conversion treats specially.
const OID = { bool: 16, int2: 21, int4: 23, float4: 700, float8: 701, json: 114, jsonb: 3802 };
// Built-in array types -> element type. Unknown OIDs are looked up in pg_type.
const BUILTIN_ARRAYS = new Map([
  [1000, 16], [1001, 17], [1002, 18], [1003, 19], [1005, 21], [1006, 22], [1007, 23], [1008, 24],
  [1009, 25], [1010, 27], [1011, 28], [1012, 29], [1013, 30], [1014, 1042], [1015, 1043],
  [1016, 20], [1017, 600], [1018, 601], [1019, 602], [1020, 603], [1021, 700], [1022, 701],
  [1027, 604], [1028, 26], [1034, 1033], [1040, 829], [1041, 869], [1115, 1114], [1182, 1082],
  [1183, 1083], [1185, 1184], [1187, 1186], [1231, 1700], [1263, 2275], [1270, 1266], [199, 114],
  [3807, 3802], [2951, 2950], [1561, 1560], [1563, 1562], [2201, 1790], [2207, 2202], [2208, 2203],
  [2209, 2204], [2210, 2205], [2211, 2206], [3221, 3220], [3643, 3614], [3645, 3615], [3905, 3904],
  [3907, 3906], [3911, 3910], [3913, 3912], [3927, 3926], [4073, 4072], [4090, 3615], [651, 650],
  [775, 774], [791, 790], [1024, 628], [629, 628], [2949, 2970], [3735, 3734], [3770, 3769],
  [2287, 2249], [4192, 4191], [12052, 12051],
]);
const SCALAR_OIDS_KNOWN_NOT_ARRAY = new Set([
  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 114, 142, 194, 600, 601, 602, 603,
  604, 628, 650, 700, 701, 705, 718, 774, 790, 829, 869, 1033, 1042, 1043, 1082, 1083, 1114, 1184,
  1186, 1266, 1560, 1562, 1700, 1790, 2202, 2203, 2204, 2205, 2206, 2249, 2275, 2276, 2278, 2950,
  2970, 3220, 3361, 3402, 3614, 3615, 3734, 3769, 3802, 3904, 3906, 3908, 3910, 3912, 3926, 4072,
  4089, 4096, 4191, 5017, 5038, 5069, 0,
]);

class HttpError extends Error {
  constructor(status, message, fields = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

/** The JSON error body Neon sends: every key present, null when absent, code "" if not a DB error. */
function errorBody(message, source) {
  const body = {};
  for (const key of ERROR_KEYS) body[key] = null;
  body.message = message;
  body.code = '';
  body.severity = '';
  if (source && typeof source.code === 'string' && source.severity) {
    for (const key of ERROR_KEYS) {
      if (key === 'message') continue;
      const value = source[key];
      body[key] = value === undefined || value === null ? null : String(value);
    }
  }
  return body;
}

function isDatabaseError(err) {
  return err instanceof pg.DatabaseError ||
    (err && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && err.severity);
}

function parseBool(header) {
  return header === 'true';
}

/** Validates the Neon-Connection-String header the way Neon does; returns pg client config. */
function parseConnectionString(value, headers) {
  const prefix = 'invalid header: neon-connection-string';
  if (value === undefined || value === '') {
    throw new HttpError(400, `${prefix}: the header is missing; send the database URL as ` +
      'Neon-Connection-String: postgresql://user:password@host[:port]/database');
  }
  if (Array.isArray(value)) throw new HttpError(400, `${prefix}: sent more than once`);
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new HttpError(400, `invalid connection string: not a URL (expected ` +
      'postgresql://user:password@host[:port]/database)');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new HttpError(400, `incorrect scheme: "${url.protocol.replace(/:$/, '')}" (expected postgresql:// or postgres://)`);
  }
  // WHATWG URL does not parse the authority of non-special schemes the same way everywhere:
  // reparse as http to get host/port/user reliably.
  const u = new URL('http:' + value.slice(url.protocol.length));
  const host = u.hostname;
  if (!host) throw new HttpError(400, 'missing hostname');
  if (net.isIP(host.replace(/^\[|\]$/g, ''))) {
    throw new HttpError(400, `invalid hostname: "${host}" is an IP address; Neon routes by host ` +
      'name, so use a name (e.g. localhost)');
  }
  const decode = (part, what) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new HttpError(400, `invalid connection string: bad percent-encoding in the ${what}`);
    }
  };
  const database = decode(u.pathname.replace(/^\//, ''), 'database name');
  if (!database) throw new HttpError(400, 'missing database name');
  if (database.includes('/')) throw new HttpError(400, 'invalid database name');
  const user = decode(u.username, 'user name');
  if (!user) throw new HttpError(400, 'missing username');
  const password = decode(u.password, 'password');
  if (!password) {
    if (headers.authorization) {
      throw new HttpError(400, 'missing authentication credentials: JWT authentication ' +
        '(Authorization: Bearer) is not supported by this proxy; put the password in the connection string');
    }
    throw new HttpError(400, 'missing authentication credentials: required password');
  }
  const config = {
    host,
    port: u.port ? Number(u.port) : 5432,
    user,
    password,
    database,
  };
  for (const [key, v] of u.searchParams) {
    if (IGNORED_PARAMS.has(key)) continue;
    if (key === 'application_name') config.application_name = v;
    else if (key === 'options') config.options = v;
    else if (key === 'connect_timeout') continue;
    else if (key === 'fallback_application_name') config.fallback_application_name = v;
    else {
      // Other startup parameters (e.g. search_path, TimeZone) are sent as `-c name=value`.
      config.options = `${config.options ? config.options + ' ' : ''}-c ${key}=${v.replace(/([\\ ])/g, '\\$1')}`;
    }
  }
  return { config, key: JSON.stringify(config) };
}

// ---------------------------------------------------------------------------------------------
// Params: Neon's json_to_pg_text.

function jsonToPgText(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return jsonArrayToPgArray(value);
  return JSON.stringify(value);
}

function jsonArrayToPgArray(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    return '{' + value.map((v) => jsonArrayToPgArray(v) ?? 'NULL').join(',') + '}';
  }
  if (typeof value === 'object') return JSON.stringify(JSON.stringify(value));
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Output conversion without raw text: Neon's pg_text_to_json.

function pgTextToJson(text, oid, types) {
  const elem = types.arrayElement(oid);
  if (elem !== undefined) {
    try {
      return parsePgArray(text, elem, types);
    } catch {
      return text;
    }
  }
  switch (oid) {
    case OID.bool:
      return text === 't';
    case OID.int2:
    case OID.int4:
      return Number.parseInt(text, 10);
    case OID.float4:
    case OID.float8: {
      const f = Number(text);
      return Number.isFinite(f) ? f : text;
    }
    case OID.json:
    case OID.jsonb:
      return JSON.parse(text);
    default:
      return text;
  }
}

function parsePgArray(text, elemOid, types) {
  let s = text;
  if (s.startsWith('[')) {
    const eq = s.indexOf('=');
    if (eq < 0) throw new Error('unbalanced array');
    s = s.slice(eq + 1);
  }
  s = s.trimStart();
  let i = 0;
  function parseArray() {
    if (s[i] !== '{') throw new Error('unbalanced array');
    i++;
    const out = [];
    if (s[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      while (s[i] === ' ') i++;
      if (s[i] === '{') {
        out.push(parseArray());
      } else if (s[i] === '"') {
        i++;
        let q = '';
        for (;;) {
          if (i >= s.length) throw new Error('unbalanced string');
          const c = s[i++];
          if (c === '"') break;
          if (c === '\\') {
            if (i >= s.length) throw new Error('unbalanced string');
            q += s[i++];
          } else {
            q += c;
          }
        }
        out.push(pgTextToJson(q, elemOid, types));
      } else {
        let j = i;
        while (j < s.length && s[j] !== ',' && s[j] !== '}') j++;
        if (j >= s.length) throw new Error('unbalanced array');
        const item = s.slice(i, j).trimEnd();
        i = j;
        out.push(item === 'NULL' ? null : pgTextToJson(item, elemOid, types));
      }
      while (s[i] === ' ') i++;
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] === '}') {
        i++;
        return out;
      }
      throw new Error('unbalanced array');
    }
  }
  const result = parseArray();
  if (s.slice(i).trim() !== '') throw new Error('unbalanced array');
  return result;
}

/** Which type OIDs are arrays (and of what), per database: built-ins plus a pg_type lookup. */
class TypeInfo {
  constructor() {
    this.arrays = new Map(BUILTIN_ARRAYS);
    this.scalars = new Set(SCALAR_OIDS_KNOWN_NOT_ARRAY);
  }

  arrayElement(oid) {
    return this.arrays.get(oid);
  }

  async learn(client, oids) {
    const unknown = [...new Set(oids)].filter((o) => !this.arrays.has(o) && !this.scalars.has(o));
    if (unknown.length === 0) return;
    const res = await client.query({
      text: "SELECT oid::int8::text AS oid, typelem::int8::text AS elem, typcategory::text AS cat FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])",
      values: [`{${unknown.join(',')}}`],
      types: RAW_TYPES,
    });
    for (const o of unknown) this.scalars.add(o);
    for (const row of res.rows) {
      const oid = Number(row.oid);
      if (row.cat === 'A' && row.elem !== '0') {
        this.scalars.delete(oid);
        this.arrays.set(oid, Number(row.elem));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running one query with streamed rows, raw text cells and the raw command tag.

class ProxyQuery extends pg.Query {
  constructor(config, budget) {
    super(config);
    this.budget = budget;
    this.rawRows = [];
    this.fieldsMeta = null;
    this.commandTag = null;
    this.tooLarge = false;
  }

  handleRowDescription(msg) {
    super.handleRowDescription(msg);
    this.fieldsMeta = msg.fields;
  }

  handleDataRow(msg) {
    if (this.tooLarge) return;
    const cells = msg.fields;
    // Size estimate of this row in the response (exact for raw array mode).
    let bytes = 2 + cells.length;
    for (const c of cells) bytes += c === null ? 4 : Buffer.byteLength(c) + 2;
    if (!this.budget.consume(bytes)) {
      this.tooLarge = true;
      this.rawRows = [];
      this.emit('too-large');
      return;
    }
    this.rawRows.push(cells);
  }

  handleCommandComplete(msg, connection) {
    this.commandTag = msg.text ?? msg.command ?? '';
    super.handleCommandComplete(msg, connection);
  }
}

function parseCommandTag(tag) {
  if (!tag) return { command: '', rowCount: null };
  const sp = tag.indexOf(' ');
  if (sp < 0) return { command: tag, rowCount: null };
  const name = tag.slice(0, sp);
  let rest = tag.slice(sp + 1);
  if (name === 'INSERT') {
    const sp2 = rest.indexOf(' ');
    if (sp2 < 0) return { command: name, rowCount: null };
    rest = rest.slice(sp2 + 1);
  }
  return { command: name, rowCount: /^-?\d+$/.test(rest) ? Number(rest) : null };
}

class Budget {
  constructor(max) {
    this.max = max;
    this.used = 0;
  }

  consume(n) {
    this.used += n;
    return this.used <= this.max;
  }
}

function tooLargeError(max) {
  return new HttpError(507, `response is too large (max is ${max} bytes)`);
}

/**
 * Runs one query on a checked-out client. Resolves { result } or rejects with the Postgres error
 * (or a 507 HttpError). Sets `state.broken` when the connection must not be reused.
 */
function runQuery(client, data, budget, state) {
  return new Promise((resolve, reject) => {
    if (state.signal?.aborted) {
      reject(state.signal.reason);
      return;
    }
    const query = new ProxyQuery({
      text: data.query,
      values: data.params,
      rowMode: 'array',
      types: RAW_TYPES,
      queryMode: 'extended',
    }, budget);
    let settled = false;
    query.on('too-large', () => {
      // Stop the query: the result is being thrown away. Dropping the connection is the only
      // reliable way to stop a huge result streaming in; the client is discarded afterwards.
      state.broken = true;
      if (!settled) {
        settled = true;
        reject(tooLargeError(budget.max));
      }
      try {
        client.connection?.stream?.destroy();
      } catch {
        // ignore
      }
    });
    query.on('error', (err) => {
      if (settled) return;
      settled = true;
      if (!isDatabaseError(err)) state.broken = true;
      reject(err);
    });
    query.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(query);
    });
    state.running = true;
    const stop = () => {
      query.removeListener('end', stop);
      query.removeListener('error', stop);
      state.running = false;
    };
    query.on('end', stop);
    query.on('error', stop);
    client.query(query);
  });
}

/**
 * Asks PostgreSQL to cancel whatever `client`'s backend is running: the protocol's CancelRequest
 * (what psql sends on Ctrl-C) on a fresh socket, so it works even when no connection slot is free.
 * Resolves true once the server has taken the request.
 */
function cancelBackend(client, config) {
  const pid = client.processID;
  const secret = client.secretKey;
  return new Promise((resolve) => {
    if (!Number.isInteger(pid) || !Number.isInteger(secret)) {
      resolve(false);
      return;
    }
    let sent = false;
    const socket = net.connect({ host: config.host, port: config.port });
    const finish = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(5_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(80877102, 4); // CancelRequest code
      packet.writeInt32BE(pid, 8);
      packet.writeInt32BE(secret, 12);
      socket.end(packet);
      sent = true;
    });
    socket.on('close', () => finish(sent));
  });
}

/**
 * At most `limit` requests of one connection string hold a connection at once; up to `maxQueued`
 * more wait (each at most `waitMs`), beyond that a request is refused at once.
 *
 * Callers that name themselves (header Dbmcp-Caller, which dbmcp sends: an opaque label of one
 * service and credential) share fairly: one caller holds at most `limit - 1` connections and half
 * the queue, so whoever else uses the same connection string always finds a connection soon.
 * Requests without the header share one unnamed caller with no such share (plain Neon clients).
 */
class Gate {
  constructor(limit, maxQueued, waitMs) {
    this.limit = limit;
    this.maxQueued = maxQueued;
    this.waitMs = waitMs;
    this.perCaller = Math.max(1, limit - 1);
    this.perCallerQueued = Math.max(1, Math.floor(maxQueued / 2));
    this.active = 0;
    this.activeBy = new Map();
    this.queue = [];
  }

  #running(caller) {
    return this.activeBy.get(caller) ?? 0;
  }

  #mayRun(caller) {
    return this.active < this.limit && (caller === '' || this.#running(caller) < this.perCaller);
  }

  #admit(caller) {
    this.active++;
    this.activeBy.set(caller, this.#running(caller) + 1);
  }

  /** Resolves when the caller may take a connection; it must call leave(caller) afterwards. */
  enter(signal, caller = '') {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#mayRun(caller) && !this.queue.some((w) => this.#mayRun(w.caller))) {
      this.#admit(caller);
      return Promise.resolve();
    }
    const waitingForCaller = caller === '' ? 0 : this.queue.filter((w) => w.caller === caller).length;
    if (this.queue.length >= this.maxQueued || (caller !== '' && waitingForCaller >= this.perCallerQueued)) {
      return Promise.reject(new HttpError(429, `too many requests for this database: ${this.active} running and ` +
        `${this.queue.length} waiting (the limits are ${this.limit} and ${this.maxQueued}, and one caller may ` +
        `hold ${this.perCaller} and queue ${this.perCallerQueued}); retry shortly`,
      { retryAfter: 1 }));
    }
    return new Promise((resolve, reject) => {
      const waiter = { caller };
      const leaveQueue = () => {
        clearTimeout(waiter.timer);
        signal.removeEventListener('abort', waiter.onAbort);
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
      };
      waiter.admit = () => {
        leaveQueue();
        this.#admit(caller);
        resolve();
      };
      waiter.onAbort = () => {
        leaveQueue();
        reject(signal.reason);
      };
      waiter.timer = setTimeout(() => {
        leaveQueue();
        reject(new HttpError(503, `all ${this.limit} connections for this database stayed busy for ` +
          `${this.waitMs} ms; retry later`, { retryAfter: 1 }));
      }, this.waitMs);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  leave(caller = '') {
    this.active--;
    const running = this.#running(caller) - 1;
    if (running > 0) this.activeBy.set(caller, running);
    else this.activeBy.delete(caller);
    // First come, first served among the waiters allowed to run now.
    while (this.active < this.limit) {
      const next = this.queue.find((w) => this.#mayRun(w.caller));
      if (!next) break;
      next.admit();
    }
  }
}

async function buildResult(client, query, arrayMode, rawOutput, typeInfo) {
  const fieldsMeta = query.fieldsMeta ?? [];
  const fields = fieldsMeta.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: 'text',
  }));
  if (!rawOutput && fields.length > 0) await typeInfo.learn(client, fields.map((f) => f.dataTypeID));
  const convert = rawOutput
    ? (v) => v
    : (v, i) => (v === null ? null : pgTextToJson(v, fields[i].dataTypeID, typeInfo));
  const rows = query.rawRows.map((cells) => {
    if (arrayMode) return cells.map(convert);
    const obj = {};
    cells.forEach((v, i) => {
      obj[fields[i].name] = convert(v, i);
    });
    return obj;
  });
  const { command, rowCount } = parseCommandTag(query.commandTag);
  return { rowAsArray: arrayMode, fields, rows, command, rowCount };
}

// ---------------------------------------------------------------------------------------------
// Pools.

class Pools {
  constructor({ connectionTimeoutMs, maxPools = 32, maxClientsPerPool = 5, maxQueued = 50, queueTimeoutMs = 10_000 }) {
    this.connectionTimeoutMs = connectionTimeoutMs;
    this.maxQueued = maxQueued;
    this.queueTimeoutMs = queueTimeoutMs;
    this.maxPools = maxPools;
    this.maxClientsPerPool = maxClientsPerPool;
    this.pools = new Map(); // key -> { pool, types }
  }

  get(key, config) {
    let entry = this.pools.get(key);
    if (entry) {
      this.pools.delete(key);
      this.pools.set(key, entry); // most recently used last
      return entry;
    }
    if (this.pools.size >= this.maxPools) {
      const [oldKey, old] = this.pools.entries().next().value;
      this.pools.delete(oldKey);
      old.pool.end().catch(() => {});
    }
    const pool = new pg.Pool({
      ...config,
      max: this.maxClientsPerPool,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: this.connectionTimeoutMs,
      allowExitOnIdle: true,
    });
    // Errors of idle clients (e.g. the server restarted): the pool drops the client; nothing else.
    pool.on('error', () => {});
    entry = { pool, types: new TypeInfo(), gate: new Gate(this.maxClientsPerPool, this.maxQueued, this.queueTimeoutMs) };
    this.pools.set(key, entry);
    return entry;
  }

  async endAll() {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.pool.end().catch(() => {})));
  }
}

function connectError(err, config) {
  if (isDatabaseError(err)) return err; // 28P01 bad password, 3D000 no such database, ...
  const where = `${config.host}:${config.port}`;
  const code = err?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new HttpError(400, `could not connect to the database: host "${config.host}" not found (${code})`);
  }
  const reason = err?.message || String(err);
  if (/timeout/i.test(reason)) {
    return new HttpError(500, `could not connect to the database at ${where}: connection timed out`);
  }
  return new HttpError(500, `could not connect to the database at ${where}: ${reason}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP.

function readBody(req, max) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > max;
    let discarded = 0;
    req.on('data', (chunk) => {
      if (tooLarge) {
        discarded += chunk.length;
        // Drain (and forget) what the client still sends, so that it reads the 413 cleanly; but
        // not forever.
        if (discarded > max * 4 + 64 * MiB) req.destroy();
        return;
      }
      size += chunk.length;
      if (size > max) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve({ tooLarge, body: tooLarge ? null : Buffer.concat(chunks) }));
    req.on('error', reject);
    req.on('close', () => resolve({ tooLarge, body: tooLarge ? null : Buffer.concat(chunks), closed: true }));
  });
}

function parsePayload(buffer) {
  let payload;
  try {
    payload = JSON.parse(buffer.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `could not parse the HTTP request body: ${err.message}`);
  }
  const checkQuery = (q, where) => {
    if (!q || typeof q !== 'object' || Array.isArray(q) || typeof q.query !== 'string') {
      throw new HttpError(400, `could not parse the HTTP request body: ${where} must be an object with a "query" string`);
    }
    if (q.params !== undefined && q.params !== null && !Array.isArray(q.params)) {
      throw new HttpError(400, `could not parse the HTTP request body: ${where}.params must be an array`);
    }
    if (q.arrayMode !== undefined && q.arrayMode !== null && typeof q.arrayMode !== 'boolean') {
      throw new HttpError(400, `could not parse the HTTP request body: ${where}.arrayMode must be a boolean`);
    }
    return {
      query: q.query,
      params: (q.params ?? []).map(jsonToPgText),
      arrayMode: typeof q.arrayMode === 'boolean' ? q.arrayMode : undefined,
    };
  };
  if (payload && typeof payload === 'object' && !Array.isArray(payload) && typeof payload.query === 'string') {
    return { single: checkQuery(payload, 'body') };
  }
  if (payload && typeof payload === 'object' && Array.isArray(payload.queries)) {
    return { batch: payload.queries.map((q, i) => checkQuery(q, `queries[${i}]`)) };
  }
  throw new HttpError(400, 'could not parse the HTTP request body: expected {"query": "...", "params": [...]} or {"queries": [...]}');
}

function send(res, status, body, extraHeaders = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Access-Control-Allow-Origin': '*',
    ...extraHeaders,
  });
  res.end(text);
}

function sendError(res, err, extraHeaders) {
  if (err instanceof HttpError) {
    const body = errorBody(err.message);
    if (err.fields.code) body.code = err.fields.code;
    const headers = err.fields.retryAfter ? { 'Retry-After': String(err.fields.retryAfter), ...extraHeaders } : extraHeaders;
    send(res, err.status, body, headers);
  } else if (isDatabaseError(err)) {
    send(res, 400, errorBody(err.message, err), extraHeaders);
  } else {
    send(res, 500, errorBody(`internal error: ${err?.message ?? String(err)}`), extraHeaders);
  }
}

/**
 * Starts the proxy. Resolves to { url, port, host, close() }; `url` is the endpoint itself
 * (http://host:port/sql), ready for `neonConfig.fetchEndpoint`.
 */
export async function startNeonProxy({
  port = 0,
  host = '127.0.0.1',
  maxRequestBytes = 10 * MiB,
  maxResponseBytes = 10 * MiB,
  connectionTimeoutMs = 15_000,
  requestTimeoutMs = 300_000,
  maxConnections = 5,
  maxQueued = 50,
  queueTimeoutMs = 10_000,
  log = () => {},
} = {}) {
  const pools = new Pools({
    connectionTimeoutMs,
    maxClientsPerPool: maxConnections,
    maxQueued,
    queueTimeoutMs,
  });

  /**
   * Aborts when the request passes its deadline or its caller goes away; `signal.reason` is the
   * error to answer with (nobody reads the answer in the second case).
   */
  function requestLifetime(req, res) {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new HttpError(504, `the request ran longer than this proxy's limit of ${requestTimeoutMs} ms; ` +
        'its query was cancelled', { code: '57014' }));
    }, requestTimeoutMs);
    const end = () => clearTimeout(timer);
    res.on('close', () => {
      end();
      if (!res.writableFinished) controller.abort(new HttpError(499, 'the caller closed the connection'));
    });
    return { signal: controller.signal, end };
  }

  async function handleSql(req, res, lifetime) {
    const headers = req.headers;
    const { signal } = lifetime;
    // A request still sending its body when its deadline passes is cut off.
    const stopReading = () => {
      sendError(res, signal.reason, { Connection: 'close' });
      req.destroy();
    };
    signal.addEventListener('abort', stopReading, { once: true });
    // Like Neon: connection info and headers first, then the body.
    const { body, tooLarge } = await readBody(req, maxRequestBytes);
    signal.removeEventListener('abort', stopReading);
    if (signal.aborted) throw signal.reason;
    const { config, key } = parseConnectionString(headers[HEADER_CONN], headers);
    const rawOutput = parseBool(headers[HEADER_RAW]);
    const defaultArrayMode = parseBool(headers[HEADER_ARRAY]);
    const isolationHeader = headers[HEADER_ISOLATION];
    let isolation;
    if (isolationHeader !== undefined) {
      isolation = ISOLATION_LEVELS[isolationHeader];
      if (!isolation) throw new HttpError(400, 'invalid isolation level');
    }
    const readOnly = parseBool(headers[HEADER_READ_ONLY]);
    const deferrable = parseBool(headers[HEADER_DEFERRABLE]);
    if (tooLarge) {
      throw new HttpError(413, `request body is too large (max is ${maxRequestBytes} bytes)`);
    }
    const payload = parsePayload(body);

    const entry = pools.get(key, config);
    const caller = callerLabel(headers[HEADER_CALLER]);
    await entry.gate.enter(signal, caller);
    let client;
    try {
      client = await entry.pool.connect();
    } catch (err) {
      entry.gate.leave(caller);
      throw connectError(err, config);
    }
    const state = { broken: false, running: false, signal };
    // Deadline or caller gone: stop the query inside PostgreSQL, never reuse this connection.
    const cancel = () => {
      state.broken = true;
      if (state.running) cancelBackend(client, config).catch(() => {});
    };
    signal.addEventListener('abort', cancel, { once: true });
    const budget = new Budget(maxResponseBytes);
    let release = () => client.release(state.broken || client.getTransactionStatus?.() !== 'I' ? true : undefined);
    try {
      if (payload.single) {
        const q = payload.single;
        const arrayMode = q.arrayMode ?? defaultArrayMode;
        const done = await runQuery(client, q, budget, state);
        const result = await buildResult(client, done, arrayMode, rawOutput, entry.types);
        const text = JSON.stringify(result);
        if (Buffer.byteLength(text) > maxResponseBytes) throw tooLargeError(maxResponseBytes);
        release();
        release = null;
        send(res, 200, text);
        return;
      }
      // Batch: one transaction.
      const extra = {};
      const modes = [];
      if (isolation) {
        modes.push(`ISOLATION LEVEL ${isolation}`);
        extra['Neon-Batch-Isolation-Level'] = isolationHeader;
      }
      if (readOnly) {
        modes.push('READ ONLY');
        extra['Neon-Batch-Read-Only'] = 'true';
      }
      if (deferrable) {
        modes.push('DEFERRABLE');
        extra['Neon-Batch-Deferrable'] = 'true';
      }
      try {
        await client.query(`BEGIN${modes.length ? ' ' + modes.join(', ') : ''}`);
      } catch (err) {
        state.broken = true;
        throw err;
      }
      const results = [];
      try {
        for (const q of payload.batch) {
          const arrayMode = q.arrayMode ?? defaultArrayMode;
          const done = await runQuery(client, q, budget, state);
          results.push(await buildResult(client, done, arrayMode, rawOutput, entry.types));
        }
      } catch (err) {
        if (!state.broken) {
          try {
            await client.query('ROLLBACK');
          } catch {
            state.broken = true;
          }
        }
        throw err;
      }
      const text = JSON.stringify({ results });
      if (Buffer.byteLength(text) > maxResponseBytes) {
        try {
          await client.query('ROLLBACK');
        } catch {
          state.broken = true;
        }
        throw tooLargeError(maxResponseBytes);
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        state.broken = true;
        throw err;
      }
      release();
      release = null;
      send(res, 200, text, extra);
    } catch (err) {
      // A query cancelled on our own request fails with 57014: answer with the reason instead.
      throw signal.aborted ? signal.reason : err;
    } finally {
      signal.removeEventListener('abort', cancel);
      if (release) {
        if (!state.broken && client.getTransactionStatus?.() !== 'I') state.broken = true;
        release();
      }
      entry.gate.leave(caller);
    }
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': '*',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return;
    }
    if (path !== '/sql' && path !== '/sql/') {
      req.resume();
      send(res, 404, errorBody(`not found: ${path} (the endpoint is POST /sql)`));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      send(res, 405, errorBody(`method ${req.method} not allowed (the endpoint is POST /sql)`), { Allow: 'POST, OPTIONS' });
      return;
    }
    const lifetime = requestLifetime(req, res);
    handleSql(req, res, lifetime).catch((err) => {
      if (!(err instanceof HttpError) && !isDatabaseError(err)) log(`neon-proxy: ${err?.stack ?? err}`);
      sendError(res, err, err instanceof HttpError && err.status === 413 ? { Connection: 'close' } : {});
    }).finally(lifetime.end);
  });
  server.keepAliveTimeout = 5_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = net.isIPv6(host) ? `[${host}]` : host;
  let closing = null;
  return {
    url: `http://${urlHost}:${actualPort}/sql`,
    port: actualPort,
    host,
    close() {
      closing ??= (async () => {
        const closed = new Promise((resolve) => server.close(() => resolve()));
        server.closeAllConnections?.();
        await Promise.race([
          Promise.all([closed, pools.endAll()]),
          new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
        ]);
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI.

function parseArgs(argv) {
  const opts = {};
  const names = {
    '--port': 'port',
    '--host': 'host',
    '--max-request-bytes': 'maxRequestBytes',
    '--max-response-bytes': 'maxResponseBytes',
    '--connection-timeout-ms': 'connectionTimeoutMs',
    '--request-timeout-ms': 'requestTimeoutMs',
    '--max-connections': 'maxConnections',
    '--max-queued': 'maxQueued',
    '--queue-timeout-ms': 'queueTimeoutMs',
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--help' || flag === '-h') {
      console.log('usage: node scripts/neon-proxy.mjs [--port 4444] [--host 127.0.0.1] ' +
        '[--max-request-bytes N] [--max-response-bytes N] [--connection-timeout-ms N] ' +
        '[--request-timeout-ms N] [--max-connections N] [--max-queued N] [--queue-timeout-ms N]');
      process.exit(0);
    }
    const name = names[flag];
    if (!name) throw new Error(`unknown option ${flag} (try --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    opts[name] = name === 'host' ? value : Number(value);
    if (name !== 'host' && !Number.isFinite(opts[name])) throw new Error(`${flag}: not a number: ${value}`);
  }
  return opts;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let opts;
  try {
    opts = { port: 4444, ...parseArgs(process.argv.slice(2)), log: (m) => console.error(m) };
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  const proxy = await startNeonProxy(opts);
  console.log(`Neon-compatible SQL-over-HTTP proxy listening on ${proxy.url}`);
  console.log(`  neonConfig.fetchEndpoint = '${proxy.url}'`);
  const stop = async () => {
    await proxy.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
