import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * How the hub starts an embedded server that has no exit-when-the-parent-dies
 * option of its own (nats-server, PostgreSQL): through this /bin/sh wrapper,
 * spawned detached (its own session and process group) with a pipe as stdin.
 * Arguments: the lock file, the server's title (for messages), the signal
 * that stops it cleanly, a pid file to judge ('' for none), then the binary
 * and its arguments. The wrapper:
 * - takes an flock on the lock file and keeps it open into the server (and
 *   whatever the server forks), so a second server on the same store (two hubs
 *   on one DATA_DIR) refuses to start instead of sharing its files; the kernel
 *   drops the lock when the last of them dies, however it dies, so it is never
 *   stale;
 * - holding that lock, removes a pid file the server would wrongly take for a
 *   live owner: one whose pid now belongs to a process that is not this server
 *   (a pid reused after a kill -9). A dead pid is left to the server, which
 *   handles that itself; a live one of the same name makes it refuse, as it should;
 * - forks a watcher that blocks reading the pipe that is the wrapper's stdin.
 *   Only the hub holds that pipe's write end, so the read returns when the hub
 *   closes it or dies in any way, SIGKILL included; the watcher then sends the
 *   server its stop signal and, after killAfterSeconds, SIGKILL to the whole
 *   process group (the server's own children included). The server's pid stays
 *   safe to signal: the watcher is in the server's session, which keeps that
 *   number from being reused;
 * - execs the server, so the child spawned *is* the server (its pid, exit code and signal).
 * No prctl(PR_SET_PDEATHSIG), which follows the spawning thread rather than the process.
 */
export function serverWrapperScript(killAfterSeconds: number, lockWaitSeconds: number): string {
  const take = lockWaitSeconds > 0 ? `flock -w ${lockWaitSeconds} 4` : 'flock -n 4';
  return `
umask 077
lock=$1
title=$2
stop=$3
pidfile=$4
shift 4
if ! command -v flock >/dev/null 2>&1; then
  echo "[$$] [FTL] flock (util-linux) is not on PATH; it keeps a second $title off this store" >&2
  exit 69
fi
exec 4>>"$lock"
if ! ${take}; then
  echo "[$$] [FTL] the store is in use by another $title (another hub on this DATA_DIR?); lock: $lock" >&2
  exit 75
fi
if [ -n "$pidfile" ] && [ -f "$pidfile" ]; then
  owner=$(head -n 1 "$pidfile" 2>/dev/null || :)
  case $owner in
    '' | *[!0-9]*) ;;
    *)
      if [ -r "/proc/$owner/comm" ] && [ "$(cat "/proc/$owner/comm" 2>/dev/null)" != "$(basename "$1")" ]; then
        rm -f "$pidfile"
      fi
      ;;
  esac
fi
exec 3<&0
server=$$
(
  read -r _ <&3 || :
  kill -"$stop" "$server" 2>/dev/null
  waited=0
  while kill -0 "$server" 2>/dev/null; do
    if [ "$waited" -ge ${killAfterSeconds * 10} ]; then
      kill -KILL -"$server" 2>/dev/null
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
) </dev/null >/dev/null 2>&1 4>&- &
exec "$@" </dev/null 3<&-
`;
}

/** The arguments of `spawn('/bin/sh', …)` that run `command` through the wrapper. */
export function serverWrapperArgs(options: {
  killAfterSeconds: number;
  /** 0: a lock held by another server fails the start at once */
  lockWaitSeconds?: number;
  lockFile: string;
  title: string;
  stopSignal: 'TERM' | 'INT';
  /** the server's pid file, judged before the start (see serverWrapperScript) */
  pidFile?: string;
  command: readonly string[];
}): string[] {
  const { killAfterSeconds, lockFile, title, stopSignal, pidFile, command } = options;
  return [
    '-c',
    serverWrapperScript(killAfterSeconds, options.lockWaitSeconds ?? 0),
    `${title}-wrapper`,
    lockFile,
    title,
    stopSignal,
    pidFile ?? '',
    ...command,
  ];
}

/** SIGKILL to a wrapped server and everything in its process group (its watcher, its own children), if still there. */
export function killServerGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
