// Server CPU of the workerd process Miniflare started, from /proc (Linux): shared by
// `npm run bench` and `scripts/bench-ab.mjs`.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function procStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' '); // fields[0] is field 3 (state)
  return { comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** The PID of the workerd process descending from this Node process (Miniflare spawns exactly one). */
export function findWorkerdPid() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = procStat(entry);
    } catch {
      continue;
    }
    if (stat.comm !== 'workerd') continue;
    for (let pid = stat.ppid, hops = 0; pid > 1 && hops < 5; hops++) {
      if (pid === process.pid) {
        found.push(Number(entry));
        break;
      }
      try {
        pid = procStat(pid).ppid;
      } catch {
        break;
      }
    }
  }
  if (found.length !== 1) throw new Error(`expected one workerd child of this process, found ${found.length}`);
  return found[0];
}

/** User plus system CPU seconds the process has used so far. */
export function workerdCpuSeconds(pid) {
  return procStat(pid).cpuTicks / CLOCK_TICKS;
}
