import { readdir, readFile } from 'node:fs/promises';

/**
 * The children of `pid` running `comm`, from /proc/<pid>/task/<tid>/children: never the command lines of every
 * process on the machine, whose reading can block behind a process that is busy exec'ing or exiting.
 */
export async function childrenOf(pid: number, comm: string): Promise<number[]> {
  const found: number[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const children = (await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean);
    for (const child of children) {
      if ((await readFile(`/proc/${child}/comm`, 'utf8').catch(() => '')).trim() === comm) found.push(Number(child));
    }
  }
  return found;
}
