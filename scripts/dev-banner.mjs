// Polls /health of the local worker and prints either how to connect or what is misconfigured.
// Usage: node scripts/dev-banner.mjs <base url> <admin token> <timeout seconds>
const [base, adminToken, timeoutSeconds = '600'] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutSeconds) * 1000;

async function health() {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.json().catch(() => ({})) };
  } catch {
    return null;
  }
}

let result = null;
while (Date.now() < deadline) {
  result = await health();
  if (result) break;
  await new Promise((r) => setTimeout(r, 1000));
}
if (!result) {
  console.error(`[dev] the worker did not answer at ${base} within ${timeoutSeconds} s`);
  process.exit(1);
}
if (result.status !== 200) {
  console.error('\n[dev] CONFIGURATION ERROR (fix wrangler.toml; the worker answers 503 until then):');
  for (const problem of result.body.config_errors ?? [JSON.stringify(result.body)]) console.error(`  - ${problem}`);
  process.exit(1);
}
const info = await (await fetch(base)).json();
const lines = ['', '[dev] dbmcp is running.', ''];
for (const s of info.services) {
  lines.push(`  ${s.label} (${s.name}${s.read_only ? ', read-only' : ''})`);
  lines.push(`    MCP endpoint: ${s.mcp_endpoint}`);
}
lines.push(
  '',
  '  Get an API key (shown once):',
  `    curl -s -X POST ${base}/admin/services/demo/keys -H "Authorization: Bearer ${adminToken}" -d '{"label":"my laptop"}'`,
  '  Or create a user who signs in through OAuth (Claude, ChatGPT, Cursor, VS Code open the login page):',
  `    curl -s -X POST ${base}/admin/services/demo/users -H "Authorization: Bearer ${adminToken}" -d '{"username":"ada","password":"a long passphrase"}'`,
  '  Then connect a client with header  Authorization: Bearer <key>,  e.g.:',
  `    npx @modelcontextprotocol/inspector --cli ${base}/mcp/demo --transport http --header "Authorization: Bearer <key>" --method tools/list`,
  '',
);
console.log(lines.join('\n'));
