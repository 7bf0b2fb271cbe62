import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A throwaway PKI made by the openssl command: a CA, the broker's certificate for 127.0.0.1, and client certificates. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'sentinel-pki-'));
  readonly ca: Pem;

  constructor() {
    this.ca = this.selfSigned('ca', 'Sentinel test CA');
  }

  selfSigned(name: string, cn: string): Pem {
    this.openssl('req', '-x509', ...this.newKey(name), '-out', this.file(`${name}.crt`), '-days', '1', '-subj', subject(cn));
    return this.read(name);
  }

  /** A certificate for `cn` signed by the CA; `altName` e.g. `IP:127.0.0.1` for the broker. */
  issued(name: string, cn: string, altName?: string): Pem {
    this.openssl('req', ...this.newKey(name), '-out', this.file(`${name}.csr`), '-subj', subject(cn));
    const ext = altName ? ['-extfile', this.write(`${name}.ext`, `subjectAltName=${altName}\n`)] : [];
    this.openssl('x509', '-req', '-in', this.file(`${name}.csr`), '-CA', this.file('ca.crt'), '-CAkey', this.file('ca.key'), '-CAcreateserial', '-days', '1', '-out', this.file(`${name}.crt`), ...ext);
    return this.read(name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private newKey(name: string): string[] {
    return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', this.file(`${name}.key`)];
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private read(name: string): Pem {
    return { cert: readFileSync(this.file(`${name}.crt`)), key: readFileSync(this.file(`${name}.key`)) };
  }

  private write(name: string, content: string): string {
    writeFileSync(this.file(name), content);
    return this.file(name);
  }

  /** The path of a file of the PKI, e.g. `ca.crt`, `broker.key`. */
  file(name: string): string {
    return join(this.dir, name);
  }
}

/** `-subj` takes `/`-separated fields: a slash inside the CN is escaped. */
const subject = (cn: string): string => `/CN=${cn.replaceAll('/', '\\/')}`;
