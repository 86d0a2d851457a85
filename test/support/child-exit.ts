/** Waiting for a child process (a worker the test started) to end. */
import type { ChildProcess } from 'node:child_process';

/** Resolves with the exit code (null when a signal ended it) once the child has exited, or at once if it has. */
export const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
