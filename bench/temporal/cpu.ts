import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU time from /proc (Linux): what each engine process spent during a run, and how busy the pinned cores were.
 * Throughput on two shared cores is mostly CPU per order, so the table says where each system's CPU goes.
 */

/** Linux reports process times in clock ticks: 100 a second (`getconf CLK_TCK`) on every architecture Node runs on */
const TICKS_PER_SECOND = 100;

/** user + system CPU milliseconds of a process so far, or null once it is gone */
export async function processCpuMs(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => null);
  if (stat === null) return null;
  // the command name is in parentheses and may hold spaces: the fields after the last ')' are fixed
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/${pid}/stat: ${stat}`);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** Children (at any depth) of `root` whose command name is `name`, e.g. the embedded FerretDB of this process. */
export async function descendantsNamed(root: number, name: string): Promise<number[]> {
  const parents = new Map<number, { parent: number; name: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'latin1').catch(() => null);
    if (stat === null) continue;
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(entry), { parent, name: command });
  }
  const isBelow = (pid: number): boolean => {
    for (let at = parents.get(pid)?.parent; at !== undefined && at > 0; at = parents.get(at)?.parent) if (at === root) return true;
    return false;
  };
  return [...parents].filter(([pid, info]) => info.name === name && isBelow(pid)).map(([pid]) => pid);
}

/** Busy and total jiffies of the given cores, from /proc/stat ("cpuN user nice system idle iowait irq softirq steal …"). */
export async function coreTicks(cores: number[]): Promise<{ busy: number; total: number }> {
  const wanted = new Set(cores.map((core) => `cpu${core}`));
  let busy = 0;
  let total = 0;
  for (const line of (await readFile('/proc/stat', 'latin1')).split('\n')) {
    const [label, ...values] = line.trim().split(/\s+/);
    if (label === undefined || !wanted.has(label)) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values.map(Number);
    busy += user + nice + system + irq + softirq + steal;
    total += user + nice + system + idle + iowait + irq + softirq + steal;
  }
  return { busy, total };
}

/** `taskset -c` syntax ("0,1", "0-3,6") to core numbers */
export function parseCoreList(list: string): number[] {
  return list.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) throw new Error(`not a core list: ${list}`);
    const last = to ?? from;
    return Array.from({ length: last - from + 1 }, (_, i) => from + i);
  });
}
