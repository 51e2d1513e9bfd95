import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private temporary folder for a subprocess engine, holding the anchors file when there are anchors. */
export async function writeAnchorsFile(
  pem: string | null,
): Promise<{ readonly path: string | null; readonly dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'trustlab-anchors-'));
  if (pem === null) return { path: null, dir, remove: () => rm(dir, { recursive: true, force: true }) };
  const path = join(dir, 'anchors.pem');
  await writeFile(path, pem, { mode: 0o600 });
  return { path, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes the client certificate and key beside the anchors (private folder, mode 0600); null when there is none. */
export async function writeClientCertFiles(
  dir: string,
  clientCert: { readonly certPem: string; readonly keyPem: string } | undefined,
): Promise<{ readonly cert: string; readonly key: string } | null> {
  if (!clientCert) return null;
  const cert = join(dir, 'client.pem');
  const key = join(dir, 'client-key.pem');
  await writeFile(cert, clientCert.certPem, { mode: 0o600 });
  await writeFile(key, clientCert.keyPem, { mode: 0o600 });
  return { cert, key };
}
