import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface Node {
  process: ChildProcess;
  port: number;
  output: string[];
}

/**
 * Starts `node --import tsx <script>` and resolves when it prints "listening <port>".
 * Every line it prints is kept in `output`.
 */
export async function startNode(
  script: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<Node> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let buffered = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start: ${output.join('\n')}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        const match = /^listening (\d+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${output.join('\n')}`));
    });
  });
  return { process: child, port, output };
}

export async function stopNode(node: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const exited = once(node.process, 'exit');
  node.process.kill(signal);
  await exited;
}
