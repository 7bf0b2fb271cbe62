import { join } from 'node:path';
import { ConfigError } from '#libs/config/index.js';
import { CredentialsFileError } from '#libs/gateway-auth/index.js';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readStdin(): Promise<string>;
  out(line: string): void;
  err(line: string): void;
}

/** Bad input: the command says what is expected (with the usage when the command line itself is wrong) and exits with 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export const EXIT_BAD_INPUT = 2;

export function processIo(): CliIo {
  return {
    env: process.env,
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
  };
}

/** GATEWAY_CREDENTIALS, else `<DATA_DIR or ./data>/gateway-credentials.json`, as the monitor reads it. */
export function credentialsPath(env: CliIo['env']): string {
  return env.GATEWAY_CREDENTIALS || join(env.DATA_DIR || './data', 'gateway-credentials.json');
}

export function configDir(env: CliIo['env']): string {
  return env.CONFIG_DIR || './config';
}

/** Runs a command, turning bad input (usage, registry, credentials file) into its message and exit code 2. */
export async function exitCodeOf(io: CliIo, usage: string, command: () => number | Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      io.err(err instanceof UsageError && !err.showUsage ? err.message : `${err.message}\n\n${usage}`);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof ConfigError || err instanceof CredentialsFileError) {
      io.err(err.message);
      return EXIT_BAD_INPUT;
    }
    io.err(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return 1;
  }
}
